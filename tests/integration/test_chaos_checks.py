"""`./dev chaos`'s checks fail on what they are there to catch (records made up here; no stack needed)."""

from __future__ import annotations

import uuid
from pathlib import Path

from cpc_stack import casemgmt, infra
from cpc_stack.chaos import Chaos, Plan
from cpc_stack.observe import Seen

NINE, TEN, ELEVEN = "2026-12-14T09:00:00+00:00", "2026-12-14T10:00:00+00:00", "2026-12-14T11:00:00+00:00"


def event(event_type: str, topic: str = "cpc.conferences", event_id: str | None = None, **data) -> Seen:
    return Seen(topic, event_type, None, {"ce_id": event_id or str(uuid.uuid4())}, data)


def scheduled(request: dict, conference_id: str, room: str, chair: str, starts: str, ends: str) -> list[Seen]:
    booking = f"BK-{conference_id}"
    return [
        event("cpc.RoomBooked.v1", "cpc.rooms", conference_id=conference_id, booking_id=booking, room_id=room,
              starts_at=starts, ends_at=ends),
        event("cpc.ConferenceScheduled.v1", conference_id=conference_id, request_id=request["request_id"],
              case_id=request["case_id"], room_id=room, chair_id=chair, starts_at=starts, ends_at=ends, version=1),
        event("cpc.ReportRequested.v1", "cpc.reports", conference_id=conference_id, report_id=f"R-{conference_id}"),
        *[event("cpc.NotificationSent.v1", "cpc.notifications", conference_id=conference_id,
                notification_id=f"N-{conference_id}-{p['participant_id']}", recipient_id=p["participant_id"],
                purpose="invitation") for p in request["participants"]],
    ]


def checked(requests: list[dict], seen: list[Seen]) -> list[str]:
    chaos = Chaos(Plan(1, 1, 1, 0), infra.Endpoints("", "", "", 0, Path()), lambda _: None)
    chaos.sent = {r["request_id"]: r for r in requests}
    chaos.result.settled = True
    chaos.check(seen)
    return chaos.result.failures


def test_a_clean_run_passes_and_each_broken_invariant_fails():
    first, second = casemgmt.conference_requested(11111), casemgmt.conference_requested(22222)
    clean = scheduled(first, "CPC-A", "ROOM-1", "CHAIR-1", NINE, TEN) + scheduled(second, "CPC-B", "ROOM-1", "CHAIR-1", TEN, ELEVEN)
    assert checked([first, second], clean) == []
    # The outbox publishing one event twice (the same event id) is one event.
    assert checked([first, second], clean + [clean[1]]) == []

    twice = checked([first, second], clean + [event("cpc.ConferenceScheduled.v1", **clean[1].data)])
    assert any("scheduled more than once" in f for f in twice)
    two_conferences = checked([first, second], clean + scheduled(first, "CPC-C", "ROOM-9", "CHAIR-9", NINE, TEN))
    assert any("more than one conference" in f for f in two_conferences)

    overlapping = scheduled(first, "CPC-A", "ROOM-1", "CHAIR-1", NINE, ELEVEN) + scheduled(second, "CPC-B", "ROOM-1", "CHAIR-2", TEN, ELEVEN)
    assert any("rooms double-booked" in f for f in checked([first, second], overlapping))
    same_chair = scheduled(first, "CPC-A", "ROOM-1", "CHAIR-1", NINE, ELEVEN) + scheduled(second, "CPC-B", "ROOM-2", "CHAIR-1", TEN, ELEVEN)
    assert any("chairs double-booked" in f for f in checked([first, second], same_chair))

    told_again = event("cpc.NotificationSent.v1", "cpc.notifications", **clean[3].data)
    assert any("sent twice" in f for f in checked([first, second], clean + [told_again]))
    dead = Seen("casemgmt.events.dlq", "casemgmt.ConferenceRequested.v1", None, {"ce_id": "x", "dlq_reason": "handler error"}, {})
    assert any("dead-lettered" in f for f in checked([first, second], clean + [dead]))

    lost = checked([first, second], scheduled(first, "CPC-A", "ROOM-1", "CHAIR-1", NINE, TEN))
    assert any("lost" in f for f in lost)
    unscheduled = event("cpc.ConferenceDeadlineAtRisk.v1", conference_id="CPC-B", case_id=second["case_id"],
                        reason="no_chair_before_deadline")
    assert checked([first, second], scheduled(first, "CPC-A", "ROOM-1", "CHAIR-1", NINE, TEN) + [unscheduled]) == []
    uninvited = [s for s in clean if not (s.type == "cpc.NotificationSent.v1" and s.data["recipient_id"].endswith("-SW"))]
    assert any("never invited" in f for f in checked([first, second], uninvited))
