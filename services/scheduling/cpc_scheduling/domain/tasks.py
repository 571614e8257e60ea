"""What the conference team must do around a conference, and by when (docs/domain.md, after the conference;
Essex 2020, families who could not join).

After every conference: the decision letter to everyone invited, and the conference's record. After one
that starts a plan (and could make one: quorate, or quoracy waived): the first core group meeting. When the
family could not join: a discussion with them before the conference and another after it. The working
days allowed are the council's (`Policy.after_conference`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.contracts.outbound import ConferenceTask
from cpc_shared.profile import Policy, Profile

TaskKind = ConferenceTask  # one list of tasks: the events name them too


@dataclass(frozen=True)
class TaskDue:
    task: TaskKind
    due_on: date


def after_conference(held_on: date, outcome: str, makes_a_plan: bool, policy: Policy,
                     calendar: WorkingDayCalendar) -> list[TaskDue]:
    rules = policy.after_conference
    due = [TaskDue("decision_letter", calendar.add_working_days(held_on, rules.decision_letter_working_days)),
           TaskDue("conference_record", calendar.add_working_days(held_on, rules.record_working_days))]
    if outcome == "plan_started" and makes_a_plan:
        due.append(TaskDue("first_core_group", calendar.add_working_days(held_on, rules.first_core_group_working_days)))
    return due


def family_could_not_join(conference_day: date, calendar: WorkingDayCalendar) -> list[TaskDue]:
    """The co-ordinator and the social worker talk with the family before the conference and after it."""
    return [TaskDue("pre_conference_discussion", calendar.on_or_before(conference_day - timedelta(days=1))),
            TaskDue("post_conference_discussion", calendar.add_working_days(conference_day, 1))]


def reminder_at(due_on: date, profile: Profile) -> datetime:
    """The team is reminded at the start of the working day a task is due."""
    return datetime.combine(due_on, profile.working_hours.start, tzinfo=ZoneInfo(profile.timezone))


def overdue_at(due_on: date, calendar: WorkingDayCalendar, profile: Profile) -> datetime:
    """Not done by the end of its day: overdue from the next working day's start."""
    return datetime.combine(calendar.add_working_days(due_on, 1), profile.working_hours.start,
                            tzinfo=ZoneInfo(profile.timezone))


def is_overdue(due_on: date, today: date) -> bool:
    return today > due_on

