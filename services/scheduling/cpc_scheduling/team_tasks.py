"""The conference team's tasks around a conference (decision letter, record, first core group meeting,
discussions with a family who could not join): added from outcomes and the chair's records, reminded on the day,
alerted once overdue (domain/tasks.py), done as the team records it."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.clock import Clock
from cpc_shared.logging import get_logger
from cpc_shared.profile import Profile
from cpc_shared.repository import Repository, StaleWrite
from cpc_shared.timers import NextDue

from cpc_scheduling.domain.tasks import TaskDue, TeamTask

log = get_logger(__name__)
TASKS = TeamTask.collection


class TeamTasks:
    def __init__(self, tasks: Repository[TeamTask], profile: Profile, calendar: WorkingDayCalendar, clock: Clock) -> None:
        self.tasks, self.profile, self.calendar, self.clock = tasks, profile, calendar, clock
        self.zone = ZoneInfo(profile.timezone)
        self.next_due = NextDue()

    def _today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()

    async def add(self, conference_id: str, case_id: str, due: list[TaskDue]) -> None:
        now = self.clock.now()
        for item in due:
            if await self.tasks.add(TeamTask.due(conference_id, case_id, item, now)):  # else added already
                log.info("task_added", conference_id=conference_id, task=item.task, due_on=item.due_on.isoformat())
        self.next_due.look_soon()

    async def of_conference(self, conference_id: str) -> list[dict[str, Any]]:
        today = self._today()
        found = [task.public(today) for task in await self.tasks.find({"conference_id": conference_id})]
        return sorted(found, key=lambda t: (t["due_on"], t["task"]))

    async def listing(self, state: str) -> list[dict[str, Any]]:
        """Open, overdue, done or all tasks: overdue first, then by due date."""
        today = self._today()
        query = {} if state == "all" else {"status": "done" if state == "done" else "open"}
        found = [task.public(today) for task in await self.tasks.find(query)]
        if state == "overdue":
            found = [task for task in found if task["overdue"]]
        return sorted(found, key=lambda t: (not t["overdue"], t["due_on"], t["conference_id"], t["task"]))

    async def mark_done(self, conference_id: str, task: str, done_on: date, by: str) -> dict[str, Any] | None:
        """Done; None if the conference has no such task. Marking it done again keeps the first record."""
        found = await self.tasks.get(f"{conference_id}|{task}")
        if found is None:
            return None
        if found.status == "open":
            found.done(done_on, by, self.clock.now())
            await self.tasks.save(found)
        return found.public(self._today())

    async def remind(self) -> int:
        """Remind the team of what is due today, and alert it of what is overdue, once each; returns how many."""
        now = self.clock.now()
        if not self.next_due.time_to_look(now):
            return 0
        raised, upcoming, again = 0, [], False
        for task in await self.tasks.find({"status": "open"}):
            count, next_at = task.alerts(now, self.calendar, self.profile)
            if count:
                try:
                    await self.tasks.save(task)
                    raised += count
                except StaleWrite:
                    again = True  # another replica raised it, or it was done meanwhile: look again
                    continue
            if next_at is not None:
                upcoming.append(next_at)
        self.next_due.looked(upcoming)
        if again:
            self.next_due.look_soon()
        return raised
