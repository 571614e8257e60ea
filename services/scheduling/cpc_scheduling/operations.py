"""What a chair does to a conference: reschedule it, hold an informal review, record that the family
could not join. Each refusal says why, in words the conference team would use."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from cpc_shared.contracts.outbound import ConferenceCancelled, FamilyArea, Invitee, RoomRequested, Slot
from cpc_shared.envelope import event_id
from cpc_shared.http import Identity
from cpc_shared.outbox import outbox_entry
from cpc_shared.store import update_where

from cpc_scheduling.domain.planning import Candidate
from cpc_scheduling.domain.tasks import family_could_not_join as discussions_with_family
from cpc_scheduling.domain.timescales import Timescale, statutory_deadline
from cpc_scheduling.process import UPCOMING, NewConference, Scheduler, candidate_doc
from cpc_scheduling.team_tasks import TeamTasks


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class ChairOperations:
    def __init__(self, scheduler: Scheduler, team_tasks: TeamTasks) -> None:
        self.s = scheduler
        self.team_tasks = team_tasks

    async def _conference(self, conference_id: str, by: Identity) -> dict[str, Any]:
        conference = await self.s.conferences.find_one({"_id": conference_id})
        if conference is None:
            raise Refused(404, f"no conference {conference_id}")
        # Only the chair (or the chair's manager) moves a conference (docs/domain.md, who may move a conference).
        if by.role == "chair" and conference.get("chair_id") != by.chair_id:
            raise Refused(403, "only this conference's chair or a manager may change it")
        return conference

    async def reschedule(self, conference_id: str, starts_at: datetime, reason: str | None, by: Identity) -> dict:
        conference = await self._conference(conference_id, by)
        if conference["status"] != "scheduled":
            raise Refused(409, f"only a scheduled conference can be rescheduled; this one is {conference['status']}")
        now = self.s.clock.now()
        local = starts_at.astimezone(self.s.zone)
        day, at = local.date(), local.time().replace(tzinfo=None)
        if starts_at <= now:
            raise Refused(422, "starts_at is in the past")
        if not self.s.calendar.is_working_day(day):
            raise Refused(422, f"{day.isoformat()} is not a working day")
        if at not in self.s.profile.session_starts:
            times = ", ".join(t.strftime("%H:%M") for t in self.s.profile.session_starts)
            raise Refused(422, f"conferences start at {times} (local time)")
        deadline = date.fromisoformat(conference["statutory_deadline"])
        if day > deadline and not (reason and reason.strip()):
            raise Refused(422, f"the new date is after the statutory deadline {deadline.isoformat()}: give the reason")
        chair = self.s.profile.chair(conference["chair_id"])
        if chair is None or not chair.available_on(day) or await self.s.chairs.is_away(chair.id, day):
            raise Refused(409, f"the chair is not working on {day.isoformat()}")
        kind = conference["conference_type"]
        length = timedelta(minutes=self.s.profile.conference_minutes[kind])
        mode = self.s.profile.policy_on(day).attendance[kind]
        candidate = Candidate(starts_at, starts_at + length, chair.id, f"{day.isoformat()}|{at:%H:%M}", mode)
        if not await self.s.chairs.hold(conference_id, [candidate], now):
            raise Refused(409, "the chair already has a conference at that time")
        outbox_before, version = len(conference["outbox"]), conference["version"]
        conference["history"].append({"at": now, "what": "reschedule_requested", "by": by.subject,
                                      "to": starts_at, "past_deadline": day > deadline, "reason": reason})
        conference["late_reason"] = (conference.get("late_reason") or "rescheduled_by_chair") if day > deadline else None
        if mode == "virtual":
            await self.s.chairs.book(conference_id, chair.id, candidate.session)
            self.s._schedule(conference, candidate, office_id=None, room_id=None, booking_id=None, now=now)
        else:
            conference["status"] = "moving"
            conference["candidates"] = [candidate_doc(candidate)]
            room_request = RoomRequested(
                conference_id=conference_id, case_id=conference["case_id"],
                room_request_id=event_id("room-reschedule", conference_id, version, starts_at.isoformat()),
                attendance_mode=mode, in_person_attendees=len(conference["invitees"]) + 1,
                family_area=FamilyArea.model_validate(conference["family_area"]),
                step_free_access=conference["step_free_access"], hearing_loop=conference["hearing_loop"],
                candidates=[Slot(starts_at=candidate.starts_at, ends_at=candidate.ends_at)],
                statutory_deadline=deadline,
            )
            conference["room_request_id"] = room_request.room_request_id
            conference["outbox"].append(outbox_entry(room_request, at=now, cause=room_request.room_request_id))
        await self.s._store_step(conference, outbox_before, expect={"status": "scheduled", "version": version})
        return {"conference_id": conference_id, "status": conference["status"],
                "note": "a room is being booked for the new time" if mode != "virtual" else "rescheduled"}

    async def informal_review(self, conference_id: str, held_on: date, next_review_by: date | None,
                              by: Identity) -> dict:
        conference = await self._conference(conference_id, by)
        if conference["conference_type"] != "review":
            raise Refused(422, "an informal review replaces a review conference only")
        if conference["status"] not in UPCOMING:
            raise Refused(409, f"this conference is {conference['status']}")
        now = self.s.clock.now()
        if held_on > now.astimezone(self.s.zone).date():
            raise Refused(422, "held_on is in the future")
        cancelled = ConferenceCancelled(conference_id=conference_id, case_id=conference["case_id"],
                                        reason="informal_review_held")
        updated = await update_where(self.s.conferences, conference_id, {"status": conference["status"]}, {
            "$set": {"status": "informal_review_held", "held_on": held_on.isoformat(), "outcome": "plan_continued"},
            "$push": {"outbox": outbox_entry(cancelled, at=now, cause="informal-review"),
                      "history": {"at": now, "what": "informal_review_held", "by": by.subject,
                                  "held_on": held_on.isoformat()}}})
        if not updated:
            raise Refused(409, "the conference changed meanwhile; try again")
        self.s.relay.notify(self.s.conferences.name, conference_id)
        await self.s.chairs.release(conference_id)
        next_request = f"{conference_id}/after-informal-review"
        await self.s.plan(NewConference(
            request_id=next_request, case_id=conference["case_id"],
            timescale=Timescale(kind="review", basis_date=held_on, previous_kind="review"),
            invitees=[Invitee.model_validate(i) for i in conference["invitees"]],
            family_area=FamilyArea.model_validate(conference["family_area"]),
            step_free_access=conference["step_free_access"], hearing_loop=conference["hearing_loop"],
            previous_conference_id=conference_id, deadline_by=next_review_by,
            interpreter_language=conference.get("interpreter_language"),
        ))
        planned = await self.s.conferences.find_one({"request_id": next_request}, {"statutory_deadline": 1})
        if planned is None:
            raise RuntimeError(f"the next review of {conference_id} was not planned")
        return {"conference_id": conference_id, "status": "informal_review_held",
                "next_review": {"conference_id": planned["_id"], "statutory_deadline": planned["statutory_deadline"]}}

    async def family_could_not_join(self, conference_id: str, by: Identity) -> dict:
        """The co-ordinator and the social worker hold a discussion with the family before the conference and
        another after it (Essex 2020): two tasks, with due dates, for the team to do and record."""
        conference = await self._conference(conference_id, by)
        if not conference.get("starts_at"):
            raise Refused(409, "the conference has no date yet")
        day = conference["starts_at"].astimezone(self.s.zone).date()
        await self.s.conferences.update_one({"_id": conference_id}, {
            "$set": {"family_could_not_join": True},
            "$push": {"history": {"at": self.s.clock.now(), "what": "family_could_not_join", "by": by.subject}}})
        await self.team_tasks.add(conference_id, conference["case_id"], discussions_with_family(day, self.s.calendar))
        tasks = {task["task"]: task for task in await self.team_tasks.of_conference(conference_id)}
        return {"conference_id": conference_id,
                "pre_conference_discussion_by": tasks["pre_conference_discussion"]["due_on"],
                "post_conference_discussion_by": tasks["post_conference_discussion"]["due_on"],
                "tasks": [tasks[k] for k in ("pre_conference_discussion", "post_conference_discussion")]}

    async def chair_away(self, chair_id: str, first: date, last: date, kind: str, by: Identity) -> dict:
        """A chair's leave or sickness: their conferences in those days are covered by another chair at the same
        time where possible, or planned again; no new conference is planned with them for those days."""
        if self.s.profile.chair(chair_id) is None:
            raise Refused(404, f"no chair {chair_id} in the council's profile")
        if last < first:
            raise Refused(422, "last_day is before first_day")
        if by.role == "chair" and by.chair_id != chair_id:
            raise Refused(403, "a chair may enter only their own absence; a coordinator or manager may enter any")
        now = self.s.clock.now()
        absence = await self.s.chairs.add_absence(chair_id, first, last, kind, by.subject, now)
        affected = [c async for c in self.s.conferences.find({"chair_id": chair_id, "status": "scheduled"})
                    if now < c["starts_at"] and first <= c["starts_at"].astimezone(self.s.zone).date() <= last]
        results = []
        for conference in sorted(affected, key=lambda c: c["starts_at"]):
            outcome = await self.s.cover(conference, now)
            results.append({"conference_id": conference["_id"], "outcome": outcome, "chair_id": conference["chair_id"]})
        return {"absence": {k: absence[k] for k in ("chair_id", "first_day", "last_day", "kind")}, "conferences": results}

    async def birth_recorded(self, case_id: str, born_on: date, by: Identity) -> dict:
        """The child of a pre-birth conference is born: the first review is due soon after the real birth."""
        now = self.s.clock.now()
        if born_on > now.astimezone(self.s.zone).date():
            raise Refused(422, "born_on is in the future")
        conferences = await self.s.cases.conferences(case_id)
        if not conferences:
            raise Refused(404, f"no conferences for case {case_id}")
        await self.s.cases.record_birth(case_id, born_on)
        results = []
        for conference in conferences:
            if (conference["status"] not in UPCOMING or conference["conference_type"] != "review"
                    or conference.get("previous_conference_type") != "pre_birth"):
                continue
            timescale = Timescale(kind="review", basis_date=date.fromisoformat(conference["basis_date"]),
                                  previous_kind="pre_birth", expected_birth_date=born_on)
            deadline = statutory_deadline(timescale, self.s.calendar, self.s.profile.policy_on(timescale.basis_date))
            outcome = await self.s.birth_recorded(conference, deadline, now)
            results.append({"conference_id": conference["_id"], "statutory_deadline": deadline, "outcome": outcome})
        conference_history = {"at": now, "what": "birth_recorded", "by": by.subject}
        for conference in conferences:
            if conference["conference_type"] == "pre_birth":
                await self.s.conferences.update_one({"_id": conference["_id"]}, {"$push": {"history": conference_history}})
        return {"case_id": case_id, "born_on": born_on, "first_reviews": results}
