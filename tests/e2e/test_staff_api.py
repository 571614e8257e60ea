"""The conference team's API on the running scheduling process: authentication, views, chair operations."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.http import issue_token
from cpc_shared.profile import load_profile
from cpc_stack import casemgmt, infra, services
from cpc_stack.paths import REPO

from tests.conftest import schedule

pytestmark = pytest.mark.e2e
API = services.api("scheduling")
LONDON = ZoneInfo("Europe/London")


def token(**claims) -> dict[str, str]:
    claims.setdefault("subject", "staff-1")
    return {"Authorization": f"Bearer {issue_token(infra.staff_token_secret(), **claims)}"}


async def test_the_api_refuses_callers_without_a_valid_token_or_the_right_role(running_services):
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{API}/conferences")).status_code == 401
        assert (await http.get(f"{API}/conferences", headers={"Authorization": "Bearer nonsense"})).status_code == 401
        forged = issue_token("not-the-key-that-the-council-signs-tokens-with", subject="x", role="manager")
        assert (await http.get(f"{API}/conferences", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
        agency = await http.get(f"{API}/conferences", headers=token(role="agency", agency="police"))
        assert agency.status_code == 403 and "roles" in agency.json()["detail"]


def figures_of(compliance: dict, kind: str) -> dict:
    return compliance["by_type"].get(kind, {"conferences": 0, "within_timescale": 0})


async def test_the_team_sees_upcoming_conferences_one_conferences_history_and_compliance(running_services, watcher):
    _, conference = await schedule(watcher, running_services)
    cid = conference["conference_id"]
    async with httpx.AsyncClient() as http:
        upcoming = (await http.get(f"{API}/conferences", headers=token(role="coordinator"))).json()
        assert cid in [c["conference_id"] for c in upcoming]
        one = (await http.get(f"{API}/conferences/{cid}", headers=token(role="coordinator"))).json()
        assert one["status"] == "scheduled" and [h["what"] for h in one["history"]][:2] == ["requested", "scheduled"]
        assert "name" not in repr(one["invitees"])
        day = conference["starts_at"][:10]

        async def compliance_on(first: str, last: str) -> dict:
            return (await http.get(f"{API}/compliance", params={"from": first, "to": last},
                                   headers=token(role="manager"))).json()

        # Counted as the census counts: not before it is held, then by the day the outcome says it was held.
        before = await compliance_on(day, day)
        assert figures_of(before, "initial")["conferences"] == figures_of(before, "initial")["within_timescale"]
        held_late = WorkingDayCalendar().add_working_days(date.fromisoformat(conference["statutory_deadline"]), 1).isoformat()
        await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceOutcomeRecorded.v1", {
            "conference_id": cid, "case_id": conference["case_id"], "held_on": held_late, "outcome": "plan_started",
            "quorate": True})])
        for _ in range(50):
            if (await http.get(f"{API}/conferences/{cid}", headers=token(role="manager"))).json().get("held_on"):
                break
            await asyncio.sleep(0.2)
        after = await compliance_on(held_late, held_late)
        assert figures_of(after, "initial")["conferences"] >= 1
        assert cid in [row["conference_id"] for row in after["late"]], "held after its deadline: late"
        assert cid not in [row["conference_id"] for row in (await compliance_on(day, day))["late"]]
        assert after["national_initial_within_15_working_days"]["share"] == 0.814
        assert (await http.get(f"{API}/compliance", params={"from": day},
                               headers=token(role="manager"))).status_code == 422
        assert (await http.get(f"{API}/conferences/CPC-NOPE", headers=token(role="manager"))).status_code == 404


async def test_a_chair_reschedules_a_conference_and_its_room_follows(running_services, watcher):
    _, conference = await schedule(watcher, running_services)
    cid, chair = conference["conference_id"], conference["chair_id"]
    calendar = WorkingDayCalendar()
    old_start = datetime.fromisoformat(conference["starts_at"]).astimezone(LONDON)
    chair_diary = load_profile(REPO / "profiles/gloucestershire-2022.yaml").chair(chair)
    new_day = calendar.add_working_days(old_start.date(), 1)
    while not chair_diary.available_on(new_day):
        new_day = calendar.add_working_days(new_day, 1)
    new_start = datetime(new_day.year, new_day.month, new_day.day, 13, 30, tzinfo=LONDON)
    async with httpx.AsyncClient() as http:
        other_chair = await http.post(f"{API}/conferences/{cid}/reschedule", json={"starts_at": new_start.isoformat()},
                                      headers=token(role="chair", chair_id="CHAIR-NOT-THIS-ONE"))
        assert other_chair.status_code == 403
        odd_time = await http.post(f"{API}/conferences/{cid}/reschedule",
                                   json={"starts_at": new_start.replace(hour=11, minute=5).isoformat()},
                                   headers=token(role="chair", chair_id=chair))
        assert odd_time.status_code == 422 and "09:30" in odd_time.json()["detail"]
        late = calendar.add_working_days(date.fromisoformat(conference["statutory_deadline"]), 2)
        past_deadline = await http.post(
            f"{API}/conferences/{cid}/reschedule", headers=token(role="chair", chair_id=chair),
            json={"starts_at": datetime(late.year, late.month, late.day, 9, 30, tzinfo=LONDON).isoformat()})
        assert past_deadline.status_code == 422 and "reason" in past_deadline.json()["detail"]
        for _ in range(10):  # the chair's first free afternoon from then on with a room free near the family
            refused = len(watcher.of_type("cpc.RoomUnavailable.v1", conference_id=cid))
            moved = await http.post(f"{API}/conferences/{cid}/reschedule", headers=token(role="chair", chair_id=chair),
                                    json={"starts_at": new_start.isoformat(), "reason": "a free room"})  # if past the deadline
            if moved.status_code == 202:
                await watcher.until(lambda before=refused: bool(watcher.of_type("cpc.ConferenceRescheduled.v1",
                                                                                  conference_id=cid))
                                    or len(watcher.of_type("cpc.RoomUnavailable.v1", conference_id=cid)) > before, 60)
                if watcher.of_type("cpc.ConferenceRescheduled.v1", conference_id=cid):
                    break
            else:
                assert moved.status_code == 409, moved.text  # the chair has a conference then
            new_day = calendar.add_working_days(new_start.date(), 1)
            while not chair_diary.available_on(new_day):
                new_day = calendar.add_working_days(new_day, 1)
            new_start = datetime(new_day.year, new_day.month, new_day.day, 13, 30, tzinfo=LONDON)
    assert await watcher.until(lambda: bool(watcher.of_type("cpc.ConferenceRescheduled.v1", conference_id=cid)), 60)
    rescheduled = watcher.of_type("cpc.ConferenceRescheduled.v1", conference_id=cid)[0].data
    assert datetime.fromisoformat(rescheduled["starts_at"]) == new_start
    assert rescheduled["version"] == 2 and rescheduled["chair_id"] == chair
    assert await watcher.until(lambda: bool(watcher.of_type("cpc.RoomReleased.v1", conference_id=cid)), 30)
    assert watcher.of_type("cpc.RoomReleased.v1", conference_id=cid)[0].data["booking_id"] == conference["booking_id"]


async def test_a_family_that_cannot_join_gets_discussions_before_and_after(running_services, watcher):
    _, conference = await schedule(watcher, running_services)
    cid = conference["conference_id"]
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{API}/conferences/{cid}/family-could-not-join", headers=token(role="manager"))
    assert response.status_code == 200
    day = datetime.fromisoformat(conference["starts_at"]).astimezone(LONDON).date()
    assert date.fromisoformat(response.json()["pre_conference_discussion_by"]) < day
    assert date.fromisoformat(response.json()["post_conference_discussion_by"]) > day


async def test_an_informal_review_keeps_the_plan_and_sets_the_next_review(running_services, watcher):
    _, initial = await schedule(watcher, running_services)
    held_on = initial["starts_at"][:10]
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceOutcomeRecorded.v1", {
        "conference_id": initial["conference_id"], "case_id": initial["case_id"], "held_on": held_on,
        "outcome": "plan_started", "quorate": True})])
    assert await watcher.until(lambda: bool(watcher.of_type(
        "cpc.ConferenceScheduled.v1", previous_conference_id=initial["conference_id"])), 60)
    review = watcher.of_type("cpc.ConferenceScheduled.v1", previous_conference_id=initial["conference_id"])[0].data
    today = date.today().isoformat()
    next_by = (date.today() + timedelta(days=60)).isoformat()
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{API}/conferences/{review['conference_id']}/informal-review",
                                   json={"held_on": today, "next_review_by": next_by},
                                   headers=token(role="chair", chair_id=review["chair_id"]))
        assert response.status_code == 200, response.text
        on_initial = await http.post(f"{API}/conferences/{initial['conference_id']}/informal-review",
                                     json={"held_on": today}, headers=token(role="manager"))
        assert on_initial.status_code == 422
    assert response.json()["next_review"]["statutory_deadline"] <= next_by
    assert await watcher.until(lambda: bool(watcher.of_type(
        "cpc.ConferenceCancelled.v1", conference_id=review["conference_id"])), 30)
    assert watcher.of_type("cpc.ConferenceCancelled.v1", conference_id=review["conference_id"])[0].data["reason"] == \
        "informal_review_held"
    assert await watcher.until(lambda: bool(watcher.of_type(
        "cpc.ConferenceScheduled.v1", previous_conference_id=review["conference_id"])), 60)
