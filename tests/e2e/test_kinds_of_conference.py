"""Every kind of request the case-management system sends, through the running services."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from cpc_shared.calendar import WorkingDayCalendar
from cpc_stack import services

from tests.conftest import schedule

pytestmark = pytest.mark.e2e
calendar = WorkingDayCalendar()


async def test_a_transfer_in_is_due_fifteen_working_days_after_the_notification(running_services, watcher):
    notified = calendar.on_or_before(date.today())
    _, conference = await schedule(watcher, running_services, conference_type="transfer_in",
                                   basis_date=notified.isoformat())
    assert conference["conference_type"] == "transfer_in"
    assert conference["statutory_deadline"] == calendar.add_working_days(notified, 15).isoformat()
    assert conference["within_timescale"] is True


async def test_a_pre_birth_conference_is_due_by_28_weeks_of_pregnancy(running_services, watcher):
    birth = date.today() + timedelta(weeks=20)
    _, conference = await schedule(watcher, running_services, conference_type="pre_birth",
                                   basis_date=date.today().isoformat(), expected_birth_date=birth.isoformat())
    assert conference["statutory_deadline"] == calendar.on_or_before(birth - timedelta(weeks=12)).isoformat()
    assert conference["within_timescale"] is True


async def test_a_review_brought_in_from_before_the_system_follows_its_previous_conference(running_services, watcher):
    held = date.today() - timedelta(days=150)
    _, conference = await schedule(watcher, running_services, conference_type="review", basis_date=held.isoformat(),
                                   previous_conference_type="review", previous_conference_id="LEGACY-1")
    assert conference["conference_type"] == "review"
    six_months = date(held.year + (held.month + 5) // 12, (held.month + 5) % 12 + 1, 1)
    assert conference["statutory_deadline"][:7] == six_months.isoformat()[:7]


async def test_a_request_that_comes_too_late_is_scheduled_as_soon_as_possible_and_flagged(running_services, watcher):
    strategy_discussion = calendar.add_working_days(date.today() - timedelta(days=40), 0)
    request, conference = await schedule(watcher, running_services, basis_date=strategy_discussion.isoformat())
    assert conference["within_timescale"] is False
    cid = conference["conference_id"]
    assert await watcher.until(lambda: bool(watcher.of_type("cpc.ConferenceDeadlineAtRisk.v1", conference_id=cid)), 30)
    at_risk = watcher.of_type("cpc.ConferenceDeadlineAtRisk.v1", conference_id=cid)[0].data
    assert at_risk["reason"] == "request_after_deadline"
    assert at_risk["statutory_deadline"] == conference["statutory_deadline"]


async def test_an_initial_conference_requested_near_its_deadline_is_held_by_it_with_the_reports_window_shortened(
        running_services, watcher):
    strategy_discussion = date.today()
    for _ in range(13):  # two working days of the fifteen are left
        strategy_discussion = calendar.on_or_before(strategy_discussion - timedelta(days=1))
    _, conference = await schedule(watcher, running_services, basis_date=strategy_discussion.isoformat())
    deadline = date.fromisoformat(conference["statutory_deadline"])
    assert deadline == calendar.add_working_days(strategy_discussion, 15)
    assert conference["within_timescale"] is True
    assert date.fromisoformat(conference["starts_at"][:10]) <= deadline
    cid = conference["conference_id"]

    def requested() -> list:
        return watcher.of_type("cpc.ReportRequested.v1", conference_id=cid)

    assert await watcher.until(lambda: len(requested()) >= 4, 30), "the social worker's and three agencies' reports"
    starts = datetime.fromisoformat(conference["starts_at"])
    for report in requested():
        assert report.data["short_notice"] is True
        assert datetime.now(UTC) < datetime.fromisoformat(report.data["due_at"]) < starts


async def test_after_a_pre_birth_conference_the_first_review_follows_the_birth_the_team_records(running_services, watcher):
    import httpx
    from cpc_shared.http import issue_token
    from cpc_stack import casemgmt, infra

    birth = date.today() + timedelta(weeks=13)
    request, conference = await schedule(watcher, running_services, conference_type="pre_birth",
                                         basis_date=date.today().isoformat(), expected_birth_date=birth.isoformat())
    held_on = conference["starts_at"][:10]
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceOutcomeRecorded.v1", {
        "conference_id": conference["conference_id"], "case_id": request["case_id"], "held_on": held_on,
        "outcome": "plan_started", "quorate": True})])

    def reviews(event_type: str) -> list:
        return [s.data for s in watcher.of_type(event_type, case_id=request["case_id"])
                if s.data["conference_type"] == "review"]

    assert await watcher.until(lambda: bool(reviews("cpc.ConferenceScheduled.v1")), 60), "no first review"
    review = reviews("cpc.ConferenceScheduled.v1")[0]
    three_months = date.fromisoformat(held_on) + timedelta(days=80)
    assert date.fromisoformat(review["statutory_deadline"]) >= three_months, "born as expected: three months first"

    born = calendar.on_or_before(date.today())  # early
    token = issue_token(infra.staff_token_secret(), subject="coordinator-3", role="coordinator")
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{services.api('scheduling')}/cases/{request['case_id']}/birth",
                                 json={"born_on": born.isoformat()}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    new_deadline = calendar.add_working_days(born, 10)
    assert answer.json()["first_reviews"][0]["statutory_deadline"] == new_deadline.isoformat()
    assert await watcher.until(lambda: any(r["statutory_deadline"] == new_deadline.isoformat()
                                           for r in reviews("cpc.ConferenceRescheduled.v1")), 60)
    moved = [r for r in reviews("cpc.ConferenceRescheduled.v1") if r["statutory_deadline"] == new_deadline.isoformat()]
    assert date.fromisoformat(moved[-1]["starts_at"][:10]) <= new_deadline and moved[-1]["within_timescale"]
