"""A service killed with SIGKILL in the middle of the flow and restarted: nothing lost, nothing doubled."""

from __future__ import annotations

import random

import pytest
from cpc_stack import casemgmt, processes, services

from tests.conftest import mails_for

pytestmark = pytest.mark.e2e

BATCH = 8


@pytest.mark.parametrize("victim", ["scheduling", "rooms", "notifications"])
async def test_a_service_killed_mid_flow_recovers_without_losing_or_doubling_work(
        running_services, service_env, watcher, victim):
    requests = [casemgmt.conference_requested(random.randrange(100_000, 999_999)) for _ in range(BATCH)]
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", r) for r in requests])

    # Kill it as soon as the flow is under way, before the batch is through.
    assert await watcher.until(lambda: bool(watcher.of_type("cpc.RoomRequested.v1")), timeout=60)
    processes.kill(victim)
    services.start(running_services, [victim],
                   extra_env=service_env)

    def scheduled(request):
        return watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])

    def invited(request):
        found = scheduled(request)
        return found and {s.data["recipient_id"] for s in watcher.of_type(
            "cpc.NotificationSent.v1", conference_id=found[0].data["conference_id"], purpose="invitation")}

    assert await watcher.until(
        lambda: all(invited(r) == {p["participant_id"] for p in r["participants"]} for r in requests), timeout=120)
    await watcher.until(lambda: False, timeout=3)

    for request in requests:
        conferences = {s.data["conference_id"] for s in scheduled(request)}
        assert len(conferences) == 1, "one conference per request"
        conference_id = conferences.pop()
        assert len({s.headers["ce_id"] for s in scheduled(request)}) == 1
        assert len({b.data["booking_id"] for b in watcher.of_type("cpc.RoomBooked.v1", conference_id=conference_id)}) == 1
        sent = watcher.of_type("cpc.NotificationSent.v1", conference_id=conference_id, purpose="invitation")
        assert len({s.data["notification_id"] for s in sent}) == len(request["participants"])
        if victim != "notifications":  # a kill between sending and recording may resend the event's mails: see README
            assert len(mails_for(running_services, conference_id)) == len(request["participants"])
