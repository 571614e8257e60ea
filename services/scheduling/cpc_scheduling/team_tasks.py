"""The conference team's tasks around a conference (decision letter, record, first core group meeting,
discussions with a family who could not join): due dates tracked, a reminder on the day, an alert once
overdue, and done or not done as the team records it.

One document a task, `<conference>|<task>`: the same outcome twice adds nothing. A reminder or an overdue
alert is a conditional update that records it for the task's due date, with its event in the same write.
"""

from __future__ import annotations

import time as wall
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.clock import Clock
from cpc_shared.contracts.outbound import ConferenceTaskDue, ConferenceTaskOverdue
from cpc_shared.logging import get_logger
from cpc_shared.outbox import OutboxRelay, outbox_entry
from cpc_shared.profile import Profile
from cpc_shared.store import update_where
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from cpc_scheduling.domain.tasks import TaskDue, is_overdue, overdue_at, reminder_at

log = get_logger(__name__)
TASKS = "tasks"
LOOK_AGAIN_SECONDS = 60.0  # other replicas' tasks are noticed this often
NOTHING_DUE = datetime.max.replace(tzinfo=UTC)
PUBLIC_FIELDS = ("conference_id", "case_id", "task", "due_on", "status", "done_on", "done_by")


class TeamTasks:
    def __init__(self, db: AsyncDatabase, profile: Profile, calendar: WorkingDayCalendar, clock: Clock,
                 relay: OutboxRelay) -> None:
        self.tasks = db[TASKS]
        self.profile, self.calendar, self.clock, self.relay = profile, calendar, clock, relay
        self.zone = ZoneInfo(profile.timezone)
        self._next_due: datetime | None = None  # None: not known, look
        self._looked_at = 0.0

    async def add(self, conference_id: str, case_id: str, due: list[TaskDue]) -> None:
        now = self.clock.now()
        for item in due:
            try:
                await self.tasks.insert_one({
                    "_id": f"{conference_id}|{item.task}", "conference_id": conference_id, "case_id": case_id,
                    "task": item.task, "due_on": item.due_on.isoformat(), "status": "open", "created_at": now,
                    "reminded_for": None, "overdue_for": None, "outbox": []})
                log.info("task_added", conference_id=conference_id, task=item.task, due_on=item.due_on.isoformat())
            except DuplicateKeyError:
                pass  # added already (the same outcome, redelivered)
        self._next_due = None

    async def of_conference(self, conference_id: str) -> list[dict[str, Any]]:
        found = [doc async for doc in self.tasks.find({"conference_id": conference_id}, {"outbox": 0})]
        return sorted((self.public(doc) for doc in found), key=lambda t: (t["due_on"], t["task"]))

    async def listing(self, state: str) -> list[dict[str, Any]]:
        """Open, overdue, done or all tasks: overdue first, then by due date."""
        query = {} if state == "all" else {"status": "done" if state == "done" else "open"}
        found = [self.public(doc) async for doc in self.tasks.find(query, {"outbox": 0})]
        if state == "overdue":
            found = [task for task in found if task["overdue"]]
        return sorted(found, key=lambda t: (not t["overdue"], t["due_on"], t["conference_id"], t["task"]))

    async def mark_done(self, conference_id: str, task: str, done_on: date, by: str) -> dict[str, Any] | None:
        """Done; None if the conference has no such task. Marking it done again keeps the first record."""
        task_id = f"{conference_id}|{task}"
        await update_where(self.tasks, task_id, {"status": "open"}, {"$set": {
            "status": "done", "done_on": done_on.isoformat(), "done_by": by, "recorded_at": self.clock.now()}})
        doc = await self.tasks.find_one({"_id": task_id}, {"outbox": 0})
        return self.public(doc) if doc else None

    def public(self, doc: dict[str, Any]) -> dict[str, Any]:
        today = self.clock.now().astimezone(self.zone).date()
        return {**{k: doc.get(k) for k in PUBLIC_FIELDS},
                "overdue": doc["status"] == "open" and is_overdue(date.fromisoformat(doc["due_on"]), today)}

    async def remind(self) -> int:
        """Remind the team of what is due today, and alert it of what is overdue, once each; returns how many."""
        now = self.clock.now()
        if self._next_due is not None and now < self._next_due and wall.monotonic() - self._looked_at < LOOK_AGAIN_SECONDS:
            return 0
        self._looked_at, next_due, raised = wall.monotonic(), NOTHING_DUE, 0
        async for doc in self.tasks.find({"status": "open"}, {"outbox": 0}):
            due_on = date.fromisoformat(doc["due_on"])
            late_from = overdue_at(due_on, self.calendar, self.profile)
            steps = ((ConferenceTaskDue, "reminded_for", reminder_at(due_on, self.profile)),
                     (ConferenceTaskOverdue, "overdue_for", late_from))
            for event_type, field, at in steps:
                if doc.get(field) == doc["due_on"]:
                    continue  # raised for this due date already
                if now < at:
                    next_due = min(next_due, at)
                    continue
                if event_type is ConferenceTaskDue and now >= late_from:
                    continue  # past its day: the overdue alert says it all
                event = event_type(conference_id=doc["conference_id"], case_id=doc["case_id"], task=doc["task"],
                                   due_on=due_on)
                if await update_where(self.tasks, doc["_id"], {"status": "open", field: doc.get(field)}, {
                        "$set": {field: doc["due_on"]},
                        "$push": {"outbox": outbox_entry(event, at=now, cause=f"{field}|{doc['due_on']}")}}):
                    self.relay.notify(TASKS, doc["_id"])
                    raised += 1
        self._next_due = next_due
        return raised
