"""After the conference: the team's tasks are tracked on the running services, reminded, and recorded done."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import httpx
import pytest
from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.http import issue_token
from cpc_stack import casemgmt, infra, services

from tests.conftest import schedule

pytestmark = pytest.mark.e2e
API = services.api("scheduling")
LONDON = ZoneInfo("Europe/London")
calendar = WorkingDayCalendar()


def token(**claims) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(infra.staff_token_secret(), subject='coordinator-1', **claims)}"}


async def test_after_a_conference_its_tasks_fall_due_are_alerted_when_overdue_and_are_recorded_done(
        running_services, watcher, clock_offset_file):
    _, conference = await schedule(watcher, running_services)
    cid = conference["conference_id"]
    held_on = date.fromisoformat(conference["starts_at"][:10])
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceOutcomeRecorded.v1", {
        "conference_id": cid, "case_id": conference["case_id"], "held_on": held_on.isoformat(),
        "outcome": "plan_started", "quorate": True})])
    async with httpx.AsyncClient() as http:
        async def tasks_of_conference() -> dict[str, dict]:
            found = (await http.get(f"{API}/conferences/{cid}", headers=token(role="coordinator"))).json()
            return {task["task"]: task for task in found.get("tasks", [])}

        for _ in range(100):
            if len(await tasks_of_conference()) == 3:
                break
            await asyncio.sleep(0.2)
        tasks = await tasks_of_conference()
        assert {name: task["due_on"] for name, task in tasks.items()} == {
            "decision_letter": calendar.add_working_days(held_on, 1).isoformat(),
            "conference_record": calendar.add_working_days(held_on, 15).isoformat(),
            "first_core_group": calendar.add_working_days(held_on, 10).isoformat()}
        assert all(task["status"] == "open" and not task["overdue"] for task in tasks.values())

        # The working day after the letter was due, mid-morning: the letter is overdue, nothing else is.
        morning = datetime.combine(calendar.add_working_days(held_on, 2), time(10), tzinfo=LONDON)
        clock_offset_file.write_text(str((morning - datetime.now(UTC)).total_seconds()))
        try:
            def overdue() -> list:
                return watcher.of_type("cpc.ConferenceTaskOverdue.v1", conference_id=cid)

            assert await watcher.until(lambda: bool(overdue()), 30), "the overdue letter was not alerted"
            assert [event.data["task"] for event in overdue()] == ["decision_letter"]
            listed = (await http.get(f"{API}/tasks", params={"state": "overdue"}, headers=token(role="manager"))).json()
            assert (cid, "decision_letter") in [(t["conference_id"], t["task"]) for t in listed]
            assert await watcher.until(lambda: any(
                e.data["purpose"] == "alert" for e in watcher.of_type("cpc.NotificationSent.v1", conference_id=cid)), 30)

            done = await http.post(f"{API}/conferences/{cid}/tasks/decision_letter/done", json={},
                                   headers=token(role="coordinator"))
            assert done.status_code == 200 and done.json()["status"] == "done"
            assert done.json()["done_on"] == morning.date().isoformat()
            listed = (await http.get(f"{API}/tasks", params={"state": "overdue"}, headers=token(role="manager"))).json()
            assert (cid, "decision_letter") not in [(t["conference_id"], t["task"]) for t in listed]
            unknown = await http.post(f"{API}/conferences/{cid}/tasks/first_core_group_x/done", json={},
                                      headers=token(role="coordinator"))
            assert unknown.status_code == 422
            agency = await http.post(f"{API}/conferences/{cid}/tasks/conference_record/done", json={},
                                     headers=token(role="agency", agency="police"))
            assert agency.status_code == 403
        finally:
            clock_offset_file.write_text("0")


async def test_a_family_who_could_not_join_gets_two_discussions_as_tasks(running_services, watcher):
    _, conference = await schedule(watcher, running_services)
    cid = conference["conference_id"]
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{API}/conferences/{cid}/family-could-not-join",
                                 headers=token(role="chair", chair_id=conference["chair_id"]))
        assert answer.status_code == 200
        day = date.fromisoformat(conference["starts_at"][:10])
        assert [(t["task"], t["due_on"], t["status"]) for t in answer.json()["tasks"]] == [
            ("pre_conference_discussion", calendar.on_or_before(date.fromordinal(day.toordinal() - 1)).isoformat(), "open"),
            ("post_conference_discussion", calendar.add_working_days(day, 1).isoformat(), "open")]
        done = await http.post(f"{API}/conferences/{cid}/tasks/pre_conference_discussion/done", json={},
                               headers=token(role="coordinator"))
        assert done.json()["status"] == "done"
        one = (await http.get(f"{API}/conferences/{cid}", headers=token(role="coordinator"))).json()
        assert {t["task"]: t["status"] for t in one["tasks"]} == {
            "pre_conference_discussion": "done", "post_conference_discussion": "open"}
