"""A conference's life on the real stack: reviews follow outcomes, plans end, cancellations and moves."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import httpx
import pytest
from cpc_shared.http import issue_token
from cpc_shared.profile import load_profile
from cpc_stack import casemgmt, infra, services

from tests.conftest import mails_for, new_request

pytestmark = pytest.mark.e2e
TIMEOUT = 60
ROOMS = services.api("rooms")


def staff_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(infra.staff_token_secret(), subject='coordinator', role='coordinator')}"}


async def scheduled_for(watcher, **fields):
    assert await watcher.until(lambda: bool(watcher.of_type("cpc.ConferenceScheduled.v1", **fields)), TIMEOUT), fields
    return watcher.of_type("cpc.ConferenceScheduled.v1", **fields)[0].data


async def record_outcome(endpoints, conference, outcome, quorate=True):
    held_on = conference["starts_at"][:10]
    await casemgmt.publish(endpoints.kafka, [("casemgmt.ConferenceOutcomeRecorded.v1", {
        "conference_id": conference["conference_id"], "case_id": conference["case_id"], "held_on": held_on,
        "outcome": outcome, "quorate": quorate})])
    return date.fromisoformat(held_on)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError


async def test_reviews_follow_outcomes_until_the_plan_ends(running_services, watcher):
    request = new_request()
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", request)])
    initial = await scheduled_for(watcher, request_id=request["request_id"])
    assert initial["within_timescale"] is True

    held_on = await record_outcome(running_services, initial, "plan_started")
    first_review = await scheduled_for(watcher, previous_conference_id=initial["conference_id"])
    seen = f"initial {initial}, first review {first_review}"  # what a failure reports
    assert first_review["conference_type"] == "review", seen
    assert first_review["within_timescale"] is True, seen
    assert date.fromisoformat(first_review["statutory_deadline"]) <= add_months(held_on, 3), seen
    assert held_on < date.fromisoformat(first_review["starts_at"][:10]) <= add_months(held_on, 3), seen
    assert first_review["chair_id"] == initial["chair_id"], f"the same chair for the case's reviews: {seen}"

    held_on = await record_outcome(running_services, first_review, "plan_continued")
    second_review = await scheduled_for(watcher, previous_conference_id=first_review["conference_id"])
    seen = f"held on {held_on}, second review {second_review}"
    assert add_months(held_on, 3) < date.fromisoformat(second_review["statutory_deadline"]) <= add_months(held_on, 6), seen
    assert date.fromisoformat(second_review["starts_at"][:10]) <= add_months(held_on, 6), seen

    await record_outcome(running_services, second_review, "plan_ended")
    await watcher.until(lambda: False, timeout=4)
    after = watcher.of_type("cpc.ConferenceScheduled.v1", previous_conference_id=second_review["conference_id"])
    assert not after, f"no review after the plan ended: {[a.data for a in after]}"


async def test_an_inquorate_initial_conference_is_reconvened_within_ten_working_days(running_services, watcher):
    request = new_request()
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", request)])
    initial = await scheduled_for(watcher, request_id=request["request_id"])
    held_on = await record_outcome(running_services, initial, "plan_started", quorate=False)
    reconvened = await scheduled_for(watcher, reconvened_from=initial["conference_id"])
    assert reconvened["conference_type"] == "initial"
    # Ten working days: over Christmas that is more than a fortnight.
    calendar = load_profile(infra.REPO / "profiles" / "gloucestershire-2022.yaml").calendar()
    assert date.fromisoformat(reconvened["statutory_deadline"]) <= calendar.add_working_days(held_on, 10)


async def test_cancelling_a_conference_releases_its_room(running_services, watcher):
    request = new_request()
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", request)])
    conference = await scheduled_for(watcher, request_id=request["request_id"])
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceCancellationRequested.v1", {
        "case_id": request["case_id"], "conference_id": conference["conference_id"],
        "reason": "Family circumstances changed (free text that must not leave the council)"})])
    cid = conference["conference_id"]
    assert await watcher.until(lambda: bool(watcher.of_type("cpc.RoomReleased.v1", conference_id=cid)), TIMEOUT)
    cancelled = watcher.of_type("cpc.ConferenceCancelled.v1", conference_id=cid)[0].data
    assert cancelled == {"conference_id": cid, "case_id": request["case_id"], "reason": "cancelled_by_council"}
    assert watcher.of_type("cpc.RoomReleased.v1", conference_id=cid)[0].data["booking_id"] == conference["booking_id"]
    async with httpx.AsyncClient() as http:
        found = (await http.get(f"{services.api('scheduling')}/conferences/{cid}", headers=staff_headers())).json()
    assert found["status"] == "cancelled" and found["history"][-1]["what"] == "cancelled_by_council"


async def free_office_elsewhere(conference: dict, not_office: str) -> dict:
    """An office other than `not_office` with a room big enough and free at the conference's time, now."""
    starts, ends = datetime.fromisoformat(conference["starts_at"]), datetime.fromisoformat(conference["ends_at"])
    async with httpx.AsyncClient() as http:
        offices = (await http.get(f"{ROOMS}/offices", headers=staff_headers())).json()
        for office in offices:
            if office["id"] == not_office:
                continue
            calendar = (await http.get(f"{ROOMS}/offices/{office['id']}/calendar",
                                       params={"date": conference["starts_at"][:10]}, headers=staff_headers())).json()
            for room in calendar["rooms"]:
                taken = any(datetime.fromisoformat(b["starts_at"]) < ends and starts < datetime.fromisoformat(b["ends_at"])
                            for b in room["bookings"])
                if room["capacity"] > len(conference["invitees"]) and not taken:  # and the chair
                    return office
    raise AssertionError(f"every other office is full at {conference['starts_at']}: the test cannot tell a move")


async def test_a_family_that_moves_is_rebooked_in_the_office_nearest_its_new_home(running_services, watcher):
    gloucester = {"postcode": "GL1 2TP", "location": {"lat": 51.8642, "lon": -2.2446}, "language": "en",
                  "interpreter_needed": False, "accessibility_needs": []}
    # A review: held near its deadline, months ahead, where other tests' conferences leave the offices free.
    request = new_request(family=gloucester, conference_type="review", previous_conference_type="initial")
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", request)])
    conference = await scheduled_for(watcher, request_id=request["request_id"])
    assert conference["office_id"] == "GL-GLOUCESTER"
    # The family moves next door to an office with a room free at that time: the conference must follow them.
    office = await free_office_elsewhere(conference, "GL-GLOUCESTER")
    new_home = dict(gloucester, postcode=f"{office['postcode_districts'][0]} 1AA", location=office["location"])
    await casemgmt.publish(running_services.kafka, [("casemgmt.CaseDetailsChanged.v1", {
        "case_id": request["case_id"], "family": new_home})])
    cid = conference["conference_id"]
    assert await watcher.until(lambda: bool(watcher.of_type("cpc.ConferenceRescheduled.v1", conference_id=cid)),
                               TIMEOUT), f"the conference stayed in Gloucester though {office['id']} had a room"
    moved = watcher.of_type("cpc.ConferenceRescheduled.v1", conference_id=cid)[0].data
    assert moved["office_id"] == office["id"], (moved, office["id"])
    assert moved["starts_at"] == conference["starts_at"] and moved["chair_id"] == conference["chair_id"]
    assert moved["version"] == conference["version"] + 1
    assert await watcher.until(lambda: bool(watcher.of_type("cpc.RoomReleased.v1", conference_id=cid)), TIMEOUT)
    assert watcher.of_type("cpc.RoomReleased.v1", conference_id=cid)[0].data["office_id"] == "GL-GLOUCESTER"


async def test_a_family_that_moves_where_no_nearer_room_is_free_keeps_its_room(running_services, watcher):
    """Moving never takes a conference somewhere farther: with its own office the nearest, nothing moves."""
    gloucester = {"postcode": "GL1 2TP", "location": {"lat": 51.8642, "lon": -2.2446}, "language": "en",
                  "interpreter_needed": False, "accessibility_needs": []}
    request = new_request(family=gloucester)
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", request)])
    conference = await scheduled_for(watcher, request_id=request["request_id"])
    cid = conference["conference_id"]
    across_town = dict(gloucester, postcode="GL4 6AA", location={"lat": 51.8480, "lon": -2.2100})
    await casemgmt.publish(running_services.kafka, [("casemgmt.CaseDetailsChanged.v1", {
        "case_id": request["case_id"], "family": across_town})])

    async def history() -> list[str]:
        async with httpx.AsyncClient() as http:
            found = await http.get(f"{services.api('scheduling')}/conferences/{cid}", headers=staff_headers())
        return [step["what"] for step in found.json().get("history", [])]

    for _ in range(TIMEOUT):
        if "move_not_possible_no_room" in await history() or watcher.of_type("cpc.ConferenceRescheduled.v1",
                                                                             conference_id=cid):
            break
        await asyncio.sleep(1)
    assert "move_not_possible_no_room" in await history()
    assert not watcher.of_type("cpc.ConferenceRescheduled.v1", conference_id=cid)
    assert not watcher.of_type("cpc.RoomReleased.v1", conference_id=cid)


async def test_a_conference_without_enough_agencies_invited_warns_that_it_may_be_inquorate(running_services, watcher):
    request = new_request()
    request["participants"] = [p for p in request["participants"] if p["role"] != "professional"][:3] + \
        [p for p in request["participants"] if p["role"] == "professional"][:1]
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", request)])
    conference = await scheduled_for(watcher, request_id=request["request_id"])
    cid = conference["conference_id"]
    assert await watcher.until(lambda: bool(watcher.of_type("cpc.QuorumAtRisk.v1", conference_id=cid)), TIMEOUT)
    assert "1 more agency" in watcher.of_type("cpc.QuorumAtRisk.v1", conference_id=cid)[0].data["reason"]
    assert datetime.fromisoformat(watcher.of_type("cpc.QuorumAtRisk.v1", conference_id=cid)[0].data["starts_at"]) == \
        datetime.fromisoformat(conference["starts_at"])


async def test_a_conference_that_loses_agencies_warns_that_it_may_be_inquorate(running_services, watcher):
    request = new_request()
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", request)])
    conference = await scheduled_for(watcher, request_id=request["request_id"])
    cid = conference["conference_id"]
    assert not watcher.of_type("cpc.QuorumAtRisk.v1", conference_id=cid), "quorate as first invited"
    professionals = [p for p in request["participants"] if p["role"] == "professional"]
    remaining = [p for p in request["participants"] if p not in professionals[1:]]  # two agencies leave
    await casemgmt.publish(running_services.kafka, [("casemgmt.CaseDetailsChanged.v1", {
        "case_id": request["case_id"], "participants": remaining})])
    assert await watcher.until(lambda: bool(watcher.of_type("cpc.QuorumAtRisk.v1", conference_id=cid)), TIMEOUT)
    assert "1 more agency" in watcher.of_type("cpc.QuorumAtRisk.v1", conference_id=cid)[0].data["reason"]
    assert await watcher.until(lambda: bool(mails_for(running_services, cid, "alert")), TIMEOUT), "the team is told"
    changed = watcher.of_type("cpc.ConferenceRescheduled.v1", conference_id=cid)[0].data
    assert len(changed["invitees"]) == len(remaining) and changed["starts_at"] == conference["starts_at"]
