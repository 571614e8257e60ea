"""A chair's leave or sickness, entered through the staff API, on the running services."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from cpc_shared.http import issue_token
from cpc_stack import casemgmt, infra, services

from tests.conftest import schedule

pytestmark = pytest.mark.e2e
API = services.api("scheduling")


def token(**claims) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(infra.staff_token_secret(), subject='coordinator-2', **claims)}"}


async def test_a_sick_chairs_conference_is_covered_at_the_same_time_and_the_usual_chair_keeps_the_reviews(
        running_services, watcher):
    request, conference = await schedule(watcher, running_services)
    cid, usual = conference["conference_id"], conference["chair_id"]
    day = conference["starts_at"][:10]
    async with httpx.AsyncClient() as http:
        refused = await http.post(f"{API}/chairs/{usual}/absences", json={"first_day": day, "last_day": day,
                                                                          "kind": "sickness"},
                                  headers=token(role="chair", chair_id="CHAIR-GL-99"))
        assert refused.status_code == 403
        entered = await http.post(f"{API}/chairs/{usual}/absences", json={"first_day": day, "last_day": day,
                                                                          "kind": "sickness"},
                                  headers=token(role="coordinator"))
        assert entered.status_code == 200, entered.text
        covered = {c["conference_id"]: c for c in entered.json()["conferences"]}
        assert covered[cid]["outcome"] == "covered" and covered[cid]["chair_id"] != usual

    def rescheduled() -> list:
        return watcher.of_type("cpc.ConferenceRescheduled.v1", conference_id=cid)

    assert await watcher.until(lambda: bool(rescheduled()), 30), "the cover was not announced"
    now = rescheduled()[-1].data
    assert now["chair_id"] == covered[cid]["chair_id"]
    assert (now["starts_at"], now["office_id"], now["room_id"]) == (
        conference["starts_at"], conference["office_id"], conference["room_id"]), "same time and place"

    # The conference is held and starts a plan: its review goes to the case's usual chair, who is back by then.
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceOutcomeRecorded.v1", {
        "conference_id": cid, "case_id": request["case_id"], "held_on": day, "outcome": "plan_started",
        "quorate": True})])

    def review() -> list:
        return [s for s in watcher.of_type("cpc.ConferenceScheduled.v1", case_id=request["case_id"])
                if s.data["conference_type"] == "review"]

    assert await watcher.until(lambda: bool(review()), 60), "the review was not scheduled"
    assert review()[0].data["chair_id"] == usual
    assert date.fromisoformat(review()[0].data["starts_at"][:10]) > date.fromisoformat(day)
