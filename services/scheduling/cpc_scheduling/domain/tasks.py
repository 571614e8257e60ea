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
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.contracts.outbound import ConferenceTask, ConferenceTaskDue, ConferenceTaskOverdue
from cpc_shared.profile import Policy, Profile
from cpc_shared.repository import Aggregate

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



class TeamTask(Aggregate):
    """One task around one conference (`<conference>|<task>`: the same outcome twice adds nothing), reminded on its
    day and alerted once overdue, for its due date; done when the team records it."""

    collection: ClassVar[str] = "tasks"

    conference_id: str
    case_id: str
    task: TaskKind
    due_on: date
    status: Literal["open", "done"] = "open"
    created_at: datetime
    reminded_for: date | None = None
    overdue_for: date | None = None
    done_on: date | None = None
    done_by: str | None = None
    recorded_at: datetime | None = None

    @classmethod
    def due(cls, conference_id: str, case_id: str, item: TaskDue, now: datetime) -> TeamTask:
        return cls(id=f"{conference_id}|{item.task}", conference_id=conference_id, case_id=case_id, task=item.task,
                   due_on=item.due_on, created_at=now)

    def overdue(self, today: date) -> bool:
        return self.status == "open" and is_overdue(self.due_on, today)

    def done(self, on: date, by: str, now: datetime) -> None:
        """Done; done again keeps the first record."""
        if self.status == "open":
            self.status, self.done_on, self.done_by, self.recorded_at = "done", on, by, now

    def alerts(self, now: datetime, calendar: WorkingDayCalendar, profile: Profile) -> tuple[int, datetime | None]:
        """Remind the team on the day, alert it once overdue (each once for this due date): how many were raised
        now, and when the next falls due (None: nothing more to say)."""
        if self.status != "open":
            return 0, None
        late_from = overdue_at(self.due_on, calendar, profile)
        raised, upcoming = 0, []
        if self.reminded_for != self.due_on:
            if now < reminder_at(self.due_on, profile):
                upcoming.append(reminder_at(self.due_on, profile))
            elif now < late_from:  # past its day, the overdue alert says it all
                self.reminded_for = self.due_on
                self.record(ConferenceTaskDue(conference_id=self.conference_id, case_id=self.case_id, task=self.task,
                                              due_on=self.due_on), at=now, cause=f"reminded_for|{self.due_on}")
                raised += 1
        if self.overdue_for != self.due_on:
            if now < late_from:
                upcoming.append(late_from)
            else:
                self.overdue_for = self.due_on
                self.record(ConferenceTaskOverdue(conference_id=self.conference_id, case_id=self.case_id,
                                                  task=self.task, due_on=self.due_on),
                            at=now, cause=f"overdue_for|{self.due_on}")
                raised += 1
        return raised, min(upcoming, default=None)

    def public(self, today: date) -> dict[str, Any]:
        return {"conference_id": self.conference_id, "case_id": self.case_id, "task": self.task,
                "due_on": self.due_on.isoformat(), "status": self.status,
                "done_on": self.done_on.isoformat() if self.done_on else None, "done_by": self.done_by,
                "overdue": self.overdue(today)}
