"""What the team must do around a conference, and by when."""

from datetime import date
from pathlib import Path

from cpc_scheduling.domain.tasks import TaskDue, after_conference, family_could_not_join, overdue_at, reminder_at
from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.profile import load_profile

PROFILES = Path(__file__).resolve().parents[3] / "profiles"
gloucestershire = load_profile(PROFILES / "gloucestershire-2022.yaml")
policy = gloucestershire.policy_on(date(2022, 6, 1))
calendar = WorkingDayCalendar()


def test_an_initial_conference_that_starts_a_plan_needs_a_letter_a_record_and_a_first_core_group():
    held = date(2022, 5, 27)  # a Friday before the Spring bank holiday and the Jubilee (2 and 3 June)
    assert after_conference(held, "plan_started", True, policy, calendar) == [
        TaskDue("decision_letter", date(2022, 5, 30)),
        TaskDue("conference_record", date(2022, 6, 21)),
        TaskDue("first_core_group", date(2022, 6, 14)),
    ]


def test_no_core_group_without_a_plan_or_when_the_conference_could_not_make_one():
    held = date(2022, 6, 6)
    assert [t.task for t in after_conference(held, "no_plan", True, policy, calendar)] == [
        "decision_letter", "conference_record"]
    assert "first_core_group" not in [t.task for t in after_conference(held, "plan_started", False, policy, calendar)]


def test_a_family_who_could_not_join_is_spoken_with_the_working_day_before_and_the_working_day_after():
    monday = date(2022, 6, 6)
    assert family_could_not_join(monday, calendar) == [
        TaskDue("pre_conference_discussion", date(2022, 6, 1)),  # Thursday and Friday were bank holidays
        TaskDue("post_conference_discussion", date(2022, 6, 7))]


def test_the_team_is_reminded_on_the_day_and_told_it_is_overdue_the_next_working_morning():
    friday = date(2022, 6, 10)
    assert reminder_at(friday, gloucestershire).isoformat() == "2022-06-10T09:30:00+01:00"
    assert overdue_at(friday, calendar, gloucestershire).isoformat() == "2022-06-13T09:30:00+01:00"
