"""The booking process: plan candidate sessions, hold their chairs, ask rooms, schedule.

Every step is one single-document write to the conference (state and the events it causes together),
so a crash at any point is resumed by redelivery without doubling anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.clock import Clock
from cpc_shared.contracts.outbound import (
    ConferenceDeadlineAtRisk,
    ConferenceRescheduled,
    ConferenceScheduled,
    FamilyArea,
    InterpreterRequested,
    Invitee,
    OutboundEvent,
    QuorumAtRisk,
    RoomRequested,
    Slot,
)
from cpc_shared.envelope import event_id
from cpc_shared.logging import get_logger
from cpc_shared.meetings import meeting_links
from cpc_shared.outbox import OutboxRelay, outbox_entry
from cpc_shared.profile import Profile
from cpc_shared.store import find_where, update_where
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from cpc_scheduling.adapters.store import CaseIndex, ChairSessions
from cpc_scheduling.domain.census import ConferenceRecord, held_on
from cpc_scheduling.domain.planning import (
    LATE_HORIZON_WORKING_DAYS,
    Candidate,
    chair_for_session,
    plan_candidates,
    why_late,
)
from cpc_scheduling.domain.quoracy import quorum_shortfall
from cpc_scheduling.domain.timescales import Timescale, statutory_deadline

log = get_logger(__name__)
UPCOMING = ("awaiting_room", "scheduled", "moving", "unscheduled")
ROOM_ATTEMPTS = 3  # batches of candidates offered to rooms before the conference is left unscheduled


def conference_id_for(request_id: str) -> str:
    return "CPC-" + event_id("conference", request_id)[:13].upper().replace("-", "")


@dataclass(frozen=True)
class NewConference:
    """Everything scheduling needs to plan a conference, whoever asked for it."""

    request_id: str
    case_id: str
    timescale: Timescale
    invitees: list[Invitee]
    family_area: FamilyArea
    step_free_access: bool = False
    hearing_loop: bool = False
    previous_conference_id: str | None = None
    reconvened_from: str | None = None
    deadline_by: date | None = None  # an earlier date a chair set (after an informal review)
    interpreter_language: str | None = None  # the family's language, when they need an interpreter
    extra: dict[str, Any] = field(default_factory=dict)


class Scheduler:
    def __init__(self, conferences: AsyncCollection, cases: CaseIndex, chairs: ChairSessions, profile: Profile,
                 calendar: WorkingDayCalendar, clock: Clock, relay: OutboxRelay) -> None:
        self.conferences = conferences
        self.cases = cases
        self.chairs = chairs
        self.profile = profile
        self.calendar = calendar
        self.clock = clock
        self.relay = relay
        self.zone = ZoneInfo(profile.timezone)
        self.links = meeting_links(profile.meeting_links)

    # Planning --------------------------------------------------------------------------------

    async def plan(self, new: NewConference) -> None:
        conference_id = conference_id_for(new.request_id)
        if await self.conferences.find_one({"_id": conference_id}, {"_id": 1}):
            return  # the same request again: one conference
        now = self.clock.now()
        policy = self.profile.policy_on(new.timescale.basis_date)
        deadline = statutory_deadline(new.timescale, self.calendar, policy)
        if new.deadline_by:
            deadline = min(deadline, self.calendar.on_or_before(new.deadline_by))
        conference: dict[str, Any] = {
            "_id": conference_id,
            "request_id": new.request_id,
            "case_id": new.case_id,
            "conference_type": new.timescale.kind,
            "basis_date": new.timescale.basis_date.isoformat(),
            "previous_conference_type": new.timescale.previous_kind,
            "previous_conference_id": new.previous_conference_id,
            "reconvened_from": new.reconvened_from,
            "statutory_deadline": deadline.isoformat(),
            "expected_birth_date": new.timescale.expected_birth_date.isoformat()
            if new.timescale.expected_birth_date else None,
            "invitees": [invitee.model_dump() for invitee in new.invitees],
            "family_area": new.family_area.model_dump(),
            "step_free_access": new.step_free_access,
            "hearing_loop": new.hearing_loop,
            "interpreter_language": new.interpreter_language,
            "requested_at": now,
            "version": 0,
            "room_attempts": 0,
            "history": [{"at": now, "what": "requested"}],
            "outbox": [],
            **new.extra,
        }
        candidates, late_reason = await self._candidates(conference, now, await self._case_chair(new.case_id))
        self._offer(conference, candidates, late_reason, now)
        await self.cases.add(new.case_id, conference_id)
        try:
            await self.conferences.insert_one(conference)
        except DuplicateKeyError:
            return
        log.info("conference_planned", conference_id=conference_id, status=conference["status"],
                 statutory_deadline=conference["statutory_deadline"])
        self.relay.notify(self.conferences.name, conference_id)

    async def _case_chair(self, case_id: str) -> str | None:
        """The chair of the case's latest conference (its usual chair, if another covered it): the same chair for
        its reviews where possible."""
        latest = None
        for doc in await self.cases.conferences(case_id, {"chair_id": 1, "starts_at": 1, "usual_chair_id": 1}):
            if doc.get("chair_id") and doc.get("starts_at") and (latest is None or doc["starts_at"] > latest["starts_at"]):
                latest = doc
        return (latest.get("usual_chair_id") or latest["chair_id"]) if latest else None

    async def cover(self, conference: dict[str, Any], now: datetime) -> str:
        """The conference's chair is away on its day: another chair takes it at the same time and place where one
        is free ("covered"), and the case keeps its usual chair for later reviews; otherwise it is planned again,
        by its deadline, with chairs who are there ("replanned"). Either way it goes out as ConferenceRescheduled."""
        outbox_before, version_before = len(conference["outbox"]), conference["version"]
        starts = conference["starts_at"].astimezone(self.zone)
        day, at = starts.date(), starts.time().replace(tzinfo=None)
        diary = await self.chairs.diary(day, day)
        cover = chair_for_session(conference["conference_type"], day, at, self.profile, diary, conference["case_id"],
                                  preferred=None)
        away = conference["chair_id"]
        conference["usual_chair_id"] = conference.get("usual_chair_id") or away
        if cover and await self.chairs.move(conference["_id"], f"{away}|{conference['chair_session']}", cover.id,
                                            conference["chair_session"]):
            conference.update(chair_id=cover.id, version=conference["version"] + 1)
            self._emit(conference, ConferenceRescheduled(**self.conference_fields(conference)), now,
                       cause=f"v{conference['version']}")
            conference["history"].append({"at": now, "what": "chair_covered", "chair_away": away, "cover": cover.id})
            outcome = "covered"
        else:
            conference["history"].append({"at": now, "what": "replanned_chair_away", "chair_away": away})
            await self._replan(conference, now, preferred=None)
            outcome = "replanned"
        await self._store_step(conference, outbox_before, expect={"status": "scheduled", "version": version_before})
        log.info("chair_away", conference_id=conference["_id"], outcome=outcome)
        return outcome

    async def _replan(self, conference: dict[str, Any], now: datetime, preferred: str | None) -> None:
        """Plan a scheduled conference again from now (its chair session is let go; rooms book the new time)."""
        conference.update(room_attempts=0, offered_sessions=[])
        await self.chairs.release(conference["_id"])
        candidates, late_reason = await self._candidates(conference, now, preferred=preferred)
        self._offer(conference, candidates, late_reason, now)

    async def birth_recorded(self, conference: dict[str, Any], deadline: date, now: datetime) -> str:
        """The first review after a pre-birth conference has a new deadline now the child is born: it stays where
        it is if that is still in time ("kept"), else it is planned again by the new deadline ("replanned")."""
        outbox_before, version_before, status_before = (len(conference["outbox"]), conference["version"],
                                                        conference["status"])
        conference["statutory_deadline"] = deadline.isoformat()
        conference["history"].append({"at": now, "what": "birth_recorded", "statutory_deadline": deadline.isoformat()})
        outcome = "kept"
        if status_before == "scheduled":
            if _local_date(conference["starts_at"], self.zone) > deadline:
                await self._replan(conference, now, preferred=conference.get("chair_id"))
                outcome = "replanned"
            else:  # subscribers hear the new deadline
                conference["version"] += 1
                self._emit(conference, ConferenceRescheduled(**self.conference_fields(conference)), now,
                           cause=f"v{conference['version']}")
        await self._store_step(conference, outbox_before, expect={"status": status_before, "version": version_before})
        return outcome

    async def _candidates(self, conference: dict[str, Any], now: datetime, preferred: str | None,
                          exclude: frozenset[tuple[date, str]] = frozenset()) -> tuple[list[Candidate], str | None]:
        """Plan and hold candidate sessions; with them, why the conference would be late (None if it is not)."""
        deadline = date.fromisoformat(conference["statutory_deadline"])
        today = now.astimezone(self.zone).date()
        last = self.calendar.add_working_days(max(deadline, today), LATE_HORIZON_WORKING_DAYS + 5)
        diary = await self.chairs.diary(today, last)
        planning = dict(kind=conference["conference_type"], case_id=conference["case_id"], deadline=deadline, now=now,
                        profile=self.profile, calendar=self.calendar, diary=diary, preferred_chair=preferred)
        planned = plan_candidates(**planning, exclude=exclude)
        if planned and planned[0].attendance_mode == "virtual":
            held = await self.chairs.hold(conference["_id"], planned[:1], now, booked=True)
        else:  # rooms choose among in-person (or hybrid) candidates of the same mode as the first
            same_mode = [c for c in planned if c.attendance_mode == (planned[0].attendance_mode if planned else None)]
            held = await self.chairs.hold(conference["_id"], same_mode, now)
        return held, why_late(**planning, candidates=held)

    def _offer(self, conference: dict[str, Any], candidates: list[Candidate], late_reason: str | None,
               now: datetime) -> None:
        """Decide the next step for `conference` from its candidates, in the document (not yet stored)."""
        deadline = date.fromisoformat(conference["statutory_deadline"])
        conference["late_reason"] = late_reason  # planned again (rooms were full): the reason is this plan's
        if not candidates:
            conference["status"] = "unscheduled"
            self._emit(conference, self._at_risk(conference, late_reason or "no_chair_before_deadline"), now,
                       cause=f"unscheduled-{conference['room_attempts']}")
            return
        first = candidates[0]
        if first.attendance_mode == "virtual":
            self._schedule(conference, first, office_id=None, room_id=None, booking_id=None, now=now)
            return
        conference["room_attempts"] += 1
        conference["status"] = "awaiting_room"
        conference["candidates"] = [candidate_doc(c) for c in candidates]
        conference["offered_sessions"] = [*conference.get("offered_sessions", []), *(c.session for c in candidates)]
        room_request = RoomRequested(
            conference_id=conference["_id"],
            case_id=conference["case_id"],
            room_request_id=event_id("room-request", conference["_id"], conference["version"], conference["room_attempts"]),
            attendance_mode=first.attendance_mode,
            in_person_attendees=len(conference["invitees"]) + 1,  # everyone invited, and the chair
            family_area=FamilyArea.model_validate(conference["family_area"]),
            step_free_access=conference["step_free_access"],
            hearing_loop=conference["hearing_loop"],
            candidates=[Slot(starts_at=c.starts_at, ends_at=c.ends_at) for c in candidates],
            statutory_deadline=deadline,
        )
        conference["room_request_id"] = room_request.room_request_id
        self._emit(conference, room_request, now, cause=room_request.room_request_id)

    def _schedule(self, conference: dict[str, Any], chosen: Candidate, *, office_id: str | None,
                  room_id: str | None, booking_id: str | None, now: datetime) -> None:
        rescheduled = conference["version"] > 0
        deadline = date.fromisoformat(conference["statutory_deadline"])
        was_late = rescheduled and _local_date(conference["starts_at"], self.zone) > deadline
        conference.update(
            status="scheduled", version=conference["version"] + 1, chair_id=chosen.chair_id,
            chair_session=chosen.session, attendance_mode=chosen.attendance_mode,
            starts_at=chosen.starts_at, ends_at=chosen.ends_at, office_id=office_id, room_id=room_id,
            booking_id=booking_id, candidates=[],
        )
        event_type = ConferenceRescheduled if rescheduled else ConferenceScheduled
        scheduled = event_type(**self.conference_fields(conference))
        self._emit(conference, scheduled, now, cause=f"v{conference['version']}")
        conference["history"].append({"at": now, "what": "rescheduled" if rescheduled else "scheduled",
                                      "starts_at": chosen.starts_at})
        if not scheduled.within_timescale and not was_late:  # newly late: the team hears once, with the reason
            self._emit(conference, self._at_risk(conference, conference.get("late_reason") or "no_chair_before_deadline"),
                       now, cause="late" if not rescheduled else f"late-v{conference['version']}")
        if conference.get("interpreter_language"):  # booked for this time and place, in the family's language
            interpreter = InterpreterRequested(
                conference_id=conference["_id"], case_id=conference["case_id"],
                language=conference["interpreter_language"], starts_at=chosen.starts_at, ends_at=chosen.ends_at,
                attendance_mode=chosen.attendance_mode, office_id=office_id, room_id=room_id,
                version=conference["version"])
            self._emit(conference, interpreter, now, cause=f"interpreter|v{conference['version']}")
        shortfall = quorum_shortfall(scheduled.invitees)
        if shortfall and not self.profile.policy_on(chosen.starts_at.date()).quoracy_waived and not rescheduled:
            quorum = QuorumAtRisk(conference_id=conference["_id"], case_id=conference["case_id"],
                                  starts_at=chosen.starts_at, reason=shortfall)
            self._emit(conference, quorum, now, cause="quorum")

    def conference_fields(self, conference: dict[str, Any]) -> dict[str, Any]:
        """The public picture of a scheduled conference, as ConferenceScheduled carries it."""
        mode = conference["attendance_mode"]
        return dict(
            conference_id=conference["_id"], case_id=conference["case_id"], request_id=conference["request_id"],
            conference_type=conference["conference_type"], starts_at=conference["starts_at"],
            ends_at=conference["ends_at"], statutory_deadline=conference["statutory_deadline"],
            within_timescale=_local_date(conference["starts_at"], self.zone) <= date.fromisoformat(conference["statutory_deadline"]),
            attendance_mode=mode, office_id=conference.get("office_id"), room_id=conference.get("room_id"),
            chair_id=conference["chair_id"], booking_id=conference.get("booking_id"),
            # Virtual and hybrid conferences have a link; so does one in a hybrid room, for partners who can't come.
            meeting_link=self.links.link_for(conference["_id"])
            if mode != "in_person" or conference.get("room_hybrid") else None,
            version=conference["version"], invitees=conference["invitees"],
            previous_conference_id=conference.get("previous_conference_id"),
            reconvened_from=conference.get("reconvened_from"),
        )

    def _at_risk(self, conference: dict[str, Any], reason: str) -> ConferenceDeadlineAtRisk:
        return ConferenceDeadlineAtRisk(conference_id=conference["_id"], case_id=conference["case_id"],
                                        statutory_deadline=conference["statutory_deadline"], reason=reason,
                                        conference_type=conference["conference_type"],
                                        reconvened_from=conference.get("reconvened_from"))

    @staticmethod
    def _emit(conference: dict[str, Any], event: OutboundEvent, now: datetime, cause: str) -> None:
        conference.setdefault("outbox", []).append(outbox_entry(event, at=now, cause=cause))

    # Rooms' answers --------------------------------------------------------------------------

    async def room_booked(self, conference_id: str, room_request_id: str, starts_at: datetime, office_id: str,
                          room_id: str, booking_id: str, hybrid: bool = False) -> None:
        conference = await find_where(self.conferences, conference_id, {
            "status": {"$in": ["awaiting_room", "moving"]}, "room_request_id": room_request_id})
        if conference is None:
            return  # answered already, or superseded
        now = self.clock.now()
        outbox_before, status_before = len(conference["outbox"]), conference["status"]
        chosen = next((_candidate(c) for c in conference.get("candidates", [])
                       if _same_instant(c["starts_at"], starts_at)), None)
        if chosen is None:
            log.warning("booked_slot_not_offered", conference_id=conference_id)
            return
        if not await self.chairs.book(conference_id, chosen.chair_id, chosen.session):
            # The hold ran out before the room came back: the session is booked again if nobody took it meanwhile.
            if await self.chairs.hold(conference_id, [chosen], now, booked=True):
                log.warning("expired_chair_hold_reclaimed", conference_id=conference_id)
            else:
                log.error("chair_hold_lost", conference_id=conference_id, chair_id=chosen.chair_id)
        conference["room_hybrid"] = hybrid
        self._schedule(conference, chosen, office_id=office_id, room_id=room_id, booking_id=booking_id, now=now)
        await self._store_step(conference, outbox_before, expect={"room_request_id": room_request_id,
                                                                 "status": status_before})

    async def room_unavailable(self, conference_id: str, room_request_id: str) -> None:
        conference = await find_where(self.conferences, conference_id, {
            "status": {"$in": ["awaiting_room", "moving"]}, "room_request_id": room_request_id})
        if conference is None:
            return
        now = self.clock.now()
        outbox_before, status_before = len(conference["outbox"]), conference["status"]
        if conference["status"] == "moving":  # no room for the move: the conference stays as it was
            conference["status"] = "scheduled"
            conference["history"].append({"at": now, "what": "move_not_possible_no_room"})
            await self.chairs.release_holds(conference_id)
            await self._store_step(conference, outbox_before, expect={"room_request_id": room_request_id,
                                                                 "status": status_before})
            return
        offered = {(date.fromisoformat(day), at) for day, at in
                   (session.split("|") for session in conference.get("offered_sessions", []))}
        deadline = date.fromisoformat(conference["statutory_deadline"])
        candidates: list[Candidate] = []
        late_reason: str | None = conference.get("late_reason")
        if conference["room_attempts"] < ROOM_ATTEMPTS:
            candidates, late_reason = await self._candidates(conference, now, conference.get("chair_id"),
                                                             exclude=frozenset(offered))
        if (late_reason or not candidates) and any(day <= deadline for day, _ in offered):
            late_reason = "no_room_before_deadline"  # chairs were free in time; rooms were not
        self._offer(conference, candidates, late_reason, now)
        await self._store_step(conference, outbox_before, expect={"room_request_id": room_request_id,
                                                                 "status": status_before})

    # The case's people --------------------------------------------------------------------------

    async def participants_changed(self, conferences: list[dict[str, Any]], participants: list[Invitee],
                                   now: datetime) -> None:
        """The case's participants are now these: its upcoming conferences invite them, and no longer anyone
        who has left. A scheduled conference gets a new version (ConferenceRescheduled at the same time and
        place), so notifications invites the newcomers and reports asks any new agency for its report."""
        wanted = [invitee.model_dump() for invitee in participants]
        for conference in conferences:
            if conference["status"] not in UPCOMING or _same_people(conference["invitees"], wanted):
                continue
            if conference.get("starts_at") and conference["starts_at"] <= now:
                continue  # under way or over: its outcome is awaited, not its invitations
            outbox_before, status_before, version_before = (len(conference["outbox"]), conference["status"],
                                                            conference["version"])
            conference["invitees"] = wanted
            conference["history"].append({"at": now, "what": "participants_changed"})
            if conference["status"] == "scheduled":
                conference["version"] += 1
                rescheduled = ConferenceRescheduled(**self.conference_fields(conference))
                self._emit(conference, rescheduled, now, cause=f"v{conference['version']}")
                # Quorate before, perhaps not now (an agency left): the team hears while there is time to act.
                shortfall = quorum_shortfall(rescheduled.invitees)
                if shortfall and not self.profile.policy_on(rescheduled.starts_at.date()).quoracy_waived:
                    quorum = QuorumAtRisk(conference_id=conference["_id"], case_id=conference["case_id"],
                                          starts_at=rescheduled.starts_at, reason=shortfall)
                    self._emit(conference, quorum, now, cause=f"quorum|v{conference['version']}")
            # Awaiting or moving to a room: the invitees go out with the conference once it is placed.
            await self._store_step(conference, outbox_before, expect={"status": status_before,
                                                                     "version": version_before})

    async def _store_step(self, conference: dict[str, Any], outbox_before: int, expect: dict[str, Any]) -> None:
        """Write the step as one conditional update: state, and the events it added to the outbox."""
        new_events = conference["outbox"][outbox_before:]
        state = {k: v for k, v in conference.items() if k not in ("_id", "outbox")}
        if await update_where(self.conferences, conference["_id"], expect,
                              {"$set": state, "$push": {"outbox": {"$each": new_events}}}):
            self.relay.notify(self.conferences.name, conference["_id"])


def census_record(conference: dict[str, Any], now: datetime, zone: ZoneInfo) -> ConferenceRecord:
    """A stored conference, as the on-time count sees it."""
    outcome_day = conference.get("held_on")
    return ConferenceRecord(
        conference_id=conference["_id"], conference_type=conference["conference_type"],
        statutory_deadline=date.fromisoformat(conference["statutory_deadline"]),
        reconvened=bool(conference.get("reconvened_from")), cancelled=conference["status"] == "cancelled",
        held_on=held_on(date.fromisoformat(outcome_day) if outcome_day else None,
                        None if conference["status"] == "cancelled" else conference.get("starts_at"), now, zone),
        late_reason=conference.get("late_reason"),
    )


def candidate_doc(candidate: Candidate) -> dict[str, Any]:
    return {"starts_at": candidate.starts_at, "ends_at": candidate.ends_at, "chair_id": candidate.chair_id,
            "session": candidate.session, "attendance_mode": candidate.attendance_mode}


def _candidate(doc: dict[str, Any]) -> Candidate:
    return Candidate(doc["starts_at"], doc["ends_at"], doc["chair_id"], doc["session"], doc["attendance_mode"])


def _local_date(value: datetime | str, zone: ZoneInfo) -> date:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(zone).date()


def _same_instant(a: datetime, b: datetime) -> bool:
    return a.timestamp() == b.timestamp()


def _same_people(invitees: list[dict[str, Any]], others: list[dict[str, Any]]) -> bool:
    def by_id(people: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(people, key=lambda person: person["participant_id"])
    return by_id(invitees) == by_id(others)
