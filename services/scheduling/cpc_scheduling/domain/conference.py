"""A conference, from the request to its outcome: the one aggregate scheduling looks after.

    (requested) ──offer──> awaiting_room ──room booked──> scheduled ──outcome──> held
         │                     │  └──no room: offer again (up to 3 times)──┘      │
         │                     └──no candidate in reach──> unscheduled           ├──cancel──> cancelled
         └──virtual: schedule at once──> scheduled                               └──informal review──> informal_review_held
    scheduled ──move (family moved, chair reschedules)──> moving ──room booked──> scheduled (rescheduled)
                                                            └──no room──> scheduled (as it was)

Every transition changes the conference and records the events it causes; the repository saves both in one
write. `version` is the conference's own (ConferenceScheduled.version): it goes up each time subscribers are
told of a new time, place, chair or people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.contracts.outbound import (
    ConferenceCancelled,
    ConferenceDeadlineAtRisk,
    ConferenceRescheduled,
    ConferenceScheduled,
    FamilyArea,
    InterpreterRequested,
    Invitee,
    QuorumAtRisk,
    RoomRequested,
    Slot,
)
from cpc_shared.envelope import event_id
from cpc_shared.meetings import MeetingLinkProvider, meeting_links
from cpc_shared.profile import Kind, Profile
from cpc_shared.repository import Aggregate

from cpc_scheduling.domain.census import ConferenceRecord, held_on
from cpc_scheduling.domain.planning import Candidate
from cpc_scheduling.domain.quoracy import quorum_shortfall
from cpc_scheduling.domain.timescales import Timescale

ROOM_ATTEMPTS = 3  # batches of candidates offered to rooms before the conference is left unscheduled


class ConferenceStatus(StrEnum):
    AWAITING_ROOM = "awaiting_room"
    SCHEDULED = "scheduled"
    MOVING = "moving"
    UNSCHEDULED = "unscheduled"
    HELD = "held"
    CANCELLED = "cancelled"
    INFORMAL_REVIEW_HELD = "informal_review_held"


UPCOMING = (ConferenceStatus.AWAITING_ROOM, ConferenceStatus.SCHEDULED, ConferenceStatus.MOVING,
            ConferenceStatus.UNSCHEDULED)
WAITING_FOR_ROOM = (ConferenceStatus.AWAITING_ROOM, ConferenceStatus.MOVING)


@dataclass(frozen=True)
class Council:
    """What a conference's transitions need to know of the council."""

    profile: Profile
    calendar: WorkingDayCalendar
    zone: ZoneInfo
    links: MeetingLinkProvider

    @classmethod
    def of(cls, profile: Profile) -> Council:
        return cls(profile, profile.calendar(), ZoneInfo(profile.timezone), meeting_links(profile.meeting_links))

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


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


class Conference(Aggregate):
    collection: ClassVar[str] = "conferences"

    request_id: str
    case_id: str
    conference_type: Kind
    basis_date: date
    previous_conference_type: str | None = None
    previous_conference_id: str | None = None
    reconvened_from: str | None = None
    statutory_deadline: date
    expected_birth_date: date | None = None
    invitees: list[Invitee]
    family_area: FamilyArea
    step_free_access: bool = False
    hearing_loop: bool = False
    interpreter_language: str | None = None
    requested_at: datetime
    status: ConferenceStatus = ConferenceStatus.UNSCHEDULED
    version: int = 0
    history: list[dict[str, Any]] = []
    late_reason: str | None = None
    # While rooms are asked: the candidates offered, every session offered so far, and the request they answer.
    room_attempts: int = 0
    candidates: list[Candidate] = []
    offered_sessions: list[str] = []
    room_request_id: str | None = None
    # Once scheduled.
    chair_id: str | None = None
    chair_session: str | None = None
    usual_chair_id: str | None = None  # the case's own chair, when another covers this conference
    attendance_mode: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    office_id: str | None = None
    room_id: str | None = None
    booking_id: str | None = None
    room_hybrid: bool = False
    # Once over.
    cancel_reason: str | None = None
    outcome: str | None = None
    held_on: date | None = None
    quorate: bool | None = None
    family_could_not_join: bool = False

    @staticmethod
    def id_for(request_id: str) -> str:
        return "CPC-" + event_id("conference", request_id)[:13].upper().replace("-", "")

    @classmethod
    def requested(cls, new: NewConference, deadline: date, now: datetime) -> Conference:
        return cls(
            id=cls.id_for(new.request_id), request_id=new.request_id, case_id=new.case_id,
            conference_type=new.timescale.kind, basis_date=new.timescale.basis_date,
            previous_conference_type=new.timescale.previous_kind, previous_conference_id=new.previous_conference_id,
            reconvened_from=new.reconvened_from, statutory_deadline=deadline,
            expected_birth_date=new.timescale.expected_birth_date, invitees=new.invitees, family_area=new.family_area,
            step_free_access=new.step_free_access, hearing_loop=new.hearing_loop,
            interpreter_language=new.interpreter_language, requested_at=now,
            history=[{"at": now, "what": "requested"}])

    @property
    def upcoming(self) -> bool:
        return self.status in UPCOMING

    def note(self, what: str, now: datetime, **details: Any) -> None:
        """A line in the conference's history, for the team (identifiers and reason codes only)."""
        self.history = [*self.history, {"at": now, "what": what, **details}]

    # Planning ------------------------------------------------------------------------------------

    def offer(self, candidates: list[Candidate], late_reason: str | None, now: datetime, council: Council) -> None:
        """The next step from the candidates whose chairs are held: scheduled at once (virtual), rooms asked
        (in person or hybrid), or unscheduled (nothing in reach), the team told when it will be late."""
        self.late_reason = late_reason  # planned again (rooms were full): the reason is this plan's
        if not candidates:
            self.status = ConferenceStatus.UNSCHEDULED
            self.record(self._at_risk(late_reason or "no_chair_before_deadline"), at=now,
                        cause=f"unscheduled-{self.room_attempts}")
            return
        first = candidates[0]
        if first.attendance_mode == "virtual":
            self.schedule(first, office_id=None, room_id=None, booking_id=None, now=now, council=council)
            return
        self.room_attempts += 1
        self.status = ConferenceStatus.AWAITING_ROOM
        self.candidates = candidates
        self.offered_sessions = [*self.offered_sessions, *(c.session for c in candidates)]
        room_request = RoomRequested(
            conference_id=self.id, case_id=self.case_id,
            room_request_id=event_id("room-request", self.id, self.version, self.room_attempts),
            attendance_mode=first.attendance_mode,
            in_person_attendees=len(self.invitees) + 1,  # everyone invited, and the chair
            family_area=self.family_area, step_free_access=self.step_free_access, hearing_loop=self.hearing_loop,
            candidates=[Slot(starts_at=c.starts_at, ends_at=c.ends_at) for c in candidates],
            statutory_deadline=self.statutory_deadline,
        )
        self.room_request_id = room_request.room_request_id
        self.record(room_request, at=now, cause=room_request.room_request_id)

    def plan_again(self) -> None:
        """Planned again from now (its chair's absence, a new deadline): rooms are asked afresh."""
        self.room_attempts, self.offered_sessions = 0, []

    def offered(self) -> frozenset[tuple[date, str]]:
        return frozenset((date.fromisoformat(day), at) for day, at in (s.split("|") for s in self.offered_sessions))

    def schedule(self, chosen: Candidate, *, office_id: str | None, room_id: str | None, booking_id: str | None,
                 now: datetime, council: Council) -> None:
        rescheduled = self.version > 0
        was_late = rescheduled and self.starts_at is not None and council.local_date(self.starts_at) > self.statutory_deadline
        self.status, self.version, self.chair_id, self.chair_session = (
            ConferenceStatus.SCHEDULED, self.version + 1, chosen.chair_id, chosen.session)
        self.attendance_mode, self.starts_at, self.ends_at = chosen.attendance_mode, chosen.starts_at, chosen.ends_at
        self.office_id, self.room_id, self.booking_id, self.candidates = office_id, room_id, booking_id, []
        scheduled = (ConferenceRescheduled if rescheduled else ConferenceScheduled)(**self.arrangements(council))
        self.record(scheduled, at=now, cause=f"v{self.version}")
        self.note("rescheduled" if rescheduled else "scheduled", now, starts_at=chosen.starts_at)
        if not scheduled.within_timescale and not was_late:  # newly late: the team hears once, with the reason
            self.record(self._at_risk(self.late_reason or "no_chair_before_deadline"), at=now,
                        cause="late" if not rescheduled else f"late-v{self.version}")
        if self.interpreter_language:  # booked for this time and place, in the family's language
            self.record(InterpreterRequested(
                conference_id=self.id, case_id=self.case_id, language=self.interpreter_language,
                starts_at=chosen.starts_at, ends_at=chosen.ends_at, attendance_mode=chosen.attendance_mode,
                office_id=office_id, room_id=room_id, version=self.version), at=now, cause=f"interpreter|v{self.version}")
        shortfall = quorum_shortfall(scheduled.invitees)
        if shortfall and not council.profile.policy_on(chosen.starts_at.date()).quoracy_waived and not rescheduled:
            self.record(QuorumAtRisk(conference_id=self.id, case_id=self.case_id, starts_at=chosen.starts_at,
                                     reason=shortfall), at=now, cause="quorum")

    def announce(self, now: datetime, council: Council) -> ConferenceRescheduled:
        """Subscribers hear the conference as it is now (same time and place; new chair, deadline or people)."""
        self.version += 1
        rescheduled = ConferenceRescheduled(**self.arrangements(council))
        self.record(rescheduled, at=now, cause=f"v{self.version}")
        return rescheduled

    def arrangements(self, council: Council) -> dict[str, Any]:
        """The public picture of a scheduled conference, as ConferenceScheduled carries it."""
        assert self.starts_at is not None and self.ends_at is not None and self.attendance_mode is not None
        mode = self.attendance_mode
        return dict(
            conference_id=self.id, case_id=self.case_id, request_id=self.request_id,
            conference_type=self.conference_type, starts_at=self.starts_at, ends_at=self.ends_at,
            statutory_deadline=self.statutory_deadline,
            within_timescale=council.local_date(self.starts_at) <= self.statutory_deadline,
            attendance_mode=mode, office_id=self.office_id, room_id=self.room_id, chair_id=self.chair_id,
            booking_id=self.booking_id,
            # Virtual and hybrid conferences have a link; so does one in a hybrid room, for partners who can't come.
            meeting_link=council.links.link_for(self.id) if mode != "in_person" or self.room_hybrid else None,
            version=self.version, invitees=self.invitees, previous_conference_id=self.previous_conference_id,
            reconvened_from=self.reconvened_from,
        )

    def _at_risk(self, reason: str) -> ConferenceDeadlineAtRisk:
        return ConferenceDeadlineAtRisk(conference_id=self.id, case_id=self.case_id,
                                        statutory_deadline=self.statutory_deadline, reason=reason,
                                        conference_type=self.conference_type, reconvened_from=self.reconvened_from)

    # Rooms' answers ------------------------------------------------------------------------------

    def waits_for(self, room_request_id: str) -> bool:
        return self.status in WAITING_FOR_ROOM and self.room_request_id == room_request_id

    def candidate_at(self, starts_at: datetime) -> Candidate | None:
        return next((c for c in self.candidates if c.starts_at.timestamp() == starts_at.timestamp()), None)

    def room_booked(self, chosen: Candidate, office_id: str, room_id: str, booking_id: str, hybrid: bool,
                    now: datetime, council: Council) -> None:
        self.room_hybrid = hybrid
        self.schedule(chosen, office_id=office_id, room_id=room_id, booking_id=booking_id, now=now, council=council)

    def move_not_possible(self, now: datetime) -> None:
        """No room for the move: the conference stays as it was."""
        self.status = ConferenceStatus.SCHEDULED
        self.note("move_not_possible_no_room", now)

    # Changes from outside ------------------------------------------------------------------------

    def move(self, room_request: RoomRequested, now: datetime) -> None:
        """The same time and chair, in a room the request asks for (the family moved; the chair chose a time)."""
        assert self.starts_at is not None and self.ends_at is not None and self.chair_id and self.chair_session
        self.status = ConferenceStatus.MOVING
        self.family_area = room_request.family_area
        self.step_free_access, self.hearing_loop = room_request.step_free_access, room_request.hearing_loop
        self.room_request_id = room_request.room_request_id
        self.record(room_request, at=now, cause=room_request.room_request_id)

    def chair_sessions(self) -> list[str]:
        """The chairs' sessions ("<chair>|<day>|<HH:MM>") this conference may hold: its candidates' and its own."""
        sessions = [c.key for c in self.candidates]
        if self.chair_id and self.chair_session:
            sessions.append(f"{self.chair_id}|{self.chair_session}")
        return list(dict.fromkeys(sessions))

    def here_and_now(self) -> Candidate:
        """Its current time, chair and mode, as a candidate (a move keeps them)."""
        assert self.starts_at and self.ends_at and self.chair_id and self.chair_session and self.attendance_mode
        return Candidate(self.starts_at, self.ends_at, self.chair_id, self.chair_session, self.attendance_mode)  # type: ignore[arg-type]

    def chair_covered(self, cover_id: str, now: datetime, council: Council) -> None:
        away = self.chair_id
        self.usual_chair_id = self.usual_chair_id or away
        self.chair_id = cover_id
        self.announce(now, council)
        self.note("chair_covered", now, chair_away=away, cover=cover_id)

    def participants_changed(self, participants: list[Invitee], now: datetime, council: Council) -> bool:
        """The case's participants are now these; False if that changes nothing here. A scheduled conference
        tells subscribers (the team warned if it may no longer be quorate); one still waiting for a room sends
        them with its scheduling."""
        if not self.upcoming or _by_id(self.invitees) == _by_id(participants):
            return False
        if self.starts_at and self.starts_at <= now:
            return False  # under way or over: its outcome is awaited, not its invitations
        self.invitees = participants
        self.note("participants_changed", now)
        if self.status == ConferenceStatus.SCHEDULED:
            rescheduled = self.announce(now, council)
            shortfall = quorum_shortfall(rescheduled.invitees)
            if shortfall and not council.profile.policy_on(rescheduled.starts_at.date()).quoracy_waived:
                self.record(QuorumAtRisk(conference_id=self.id, case_id=self.case_id, starts_at=rescheduled.starts_at,
                                         reason=shortfall), at=now, cause=f"quorum|v{self.version}")
        return True

    def new_deadline(self, deadline: date, now: datetime) -> None:
        self.statutory_deadline = deadline
        self.note("birth_recorded", now, statutory_deadline=deadline.isoformat())

    def cancel(self, reason: str, now: datetime, cause: str) -> None:
        self.status, self.cancel_reason = ConferenceStatus.CANCELLED, reason
        self.record(ConferenceCancelled(conference_id=self.id, case_id=self.case_id, reason=reason), at=now, cause=cause)
        self.note(reason, now)

    def held(self, outcome: str, on: date, quorate: bool) -> None:
        self.status, self.outcome, self.held_on, self.quorate = ConferenceStatus.HELD, outcome, on, quorate

    def informal_review_held(self, on: date, by: str, now: datetime) -> None:
        """A review replaced by an informal one (the plan continues): subscribers hear it as cancelled."""
        self.status, self.held_on, self.outcome = ConferenceStatus.INFORMAL_REVIEW_HELD, on, "plan_continued"
        self.record(ConferenceCancelled(conference_id=self.id, case_id=self.case_id, reason="informal_review_held"),
                    at=now, cause="informal-review")
        self.note("informal_review_held", now, by=by, held_on=on.isoformat())

    def family_cannot_join(self, by: str, now: datetime) -> None:
        self.family_could_not_join = True
        self.note("family_could_not_join", now, by=by)

    # Counting --------------------------------------------------------------------------------------

    def census_record(self, now: datetime, zone: ZoneInfo) -> ConferenceRecord:
        """The conference as the on-time count sees it."""
        cancelled = self.status == ConferenceStatus.CANCELLED
        return ConferenceRecord(
            conference_id=self.id, conference_type=self.conference_type, statutory_deadline=self.statutory_deadline,
            reconvened=bool(self.reconvened_from), cancelled=cancelled,
            held_on=held_on(self.held_on, None if cancelled else self.starts_at, now, zone), late_reason=self.late_reason)


def _by_id(people: list[Invitee]) -> list[Invitee]:
    return sorted(people, key=lambda person: person.participant_id)
