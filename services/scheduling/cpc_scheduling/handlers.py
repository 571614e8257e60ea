"""The scheduling service layer: one handler per event it takes, each loading conferences, applying a transition
(domain/conference.py) and saving them through the repository, which publishes what they record.

    ConferenceRequested              -> plan                  (RoomRequested, or ConferenceScheduled if virtual)
    RoomBooked                       -> room_booked           (ConferenceScheduled / ConferenceRescheduled)
    RoomUnavailable                  -> room_unavailable      (RoomRequested again, or ConferenceDeadlineAtRisk)
    ConferenceOutcomeRecorded        -> outcome_recorded      (the team's tasks; the next review, or a reconvened
                                                               conference; plan ended: the rest cancelled)
    ConferenceCancellationRequested  -> cancellation_requested (ConferenceCancelled)
    CaseDetailsChanged               -> case_details_changed  (invitees changed; a room nearer the family's new home)
    every minute                     -> expire_chair_holds

The chair's operations over HTTP (reschedule, cover an absence...) are in operations.py and use the same steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from cpc_shared.clock import Clock
from cpc_shared.consumer import Rejected
from cpc_shared.contracts.inbound import (
    CaseDetailsChanged,
    ConferenceCancellationRequested,
    ConferenceOutcomeRecorded,
    ConferenceRequested,
)
from cpc_shared.contracts.outbound import Invitee, RoomBooked, RoomRequested, RoomUnavailable, Slot
from cpc_shared.envelope import event_id
from cpc_shared.logging import get_logger
from cpc_shared.repository import Repository

from cpc_scheduling.adapters.store import Arrivals, CaseIndex, ChairSessions
from cpc_scheduling.domain.conference import (
    ROOM_ATTEMPTS,
    Conference,
    ConferenceStatus,
    Council,
    NewConference,
)
from cpc_scheduling.domain.planning import (
    LATE_HORIZON_WORKING_DAYS,
    Candidate,
    family_area,
    needs_hearing_loop,
    needs_step_free,
    plan_candidates,
    why_late,
)
from cpc_scheduling.domain.tasks import after_conference
from cpc_scheduling.domain.timescales import Timescale, next_review, statutory_deadline
from cpc_scheduling.solving import MovesDidNotHelp, solver_choice
from cpc_scheduling.team_tasks import TeamTasks

log = get_logger(__name__)

FALLBACKS_BEHIND_SOLVER = 5  # greedy candidates offered to rooms after the solver's session (the greedy planner: 12)


@dataclass(frozen=True)
class Scheduling:
    """What the handlers work with (wired by bootstrap.py)."""

    conferences: Repository[Conference]
    cases: CaseIndex
    chairs: ChairSessions
    tasks: TeamTasks
    council: Council
    clock: Clock
    # "solver": each conference placed by the CP-SAT planner (solving.py), rooms' refusals planned again greedily;
    # "greedy": candidate sessions best first (domain/planning.py), the rooms service choosing among them.
    planner: Literal["solver", "greedy"] = "greedy"
    arrivals: Arrivals | None = None
    solver_seconds: float = 1.0  # the solver's own (deterministic) time for one conference
    max_moves: int = 0  # conferences already planned that the solver may move to place a late one in time
    frozen_working_days: int = 5  # never moved when fewer working days away than this (invitations went out)
    moves_did_not_help: MovesDidNotHelp = field(default_factory=MovesDidNotHelp)


# Planning --------------------------------------------------------------------------------------

async def conference_requested(request: ConferenceRequested, s: Scheduling) -> None:
    await plan(NewConference(
        request_id=request.request_id, case_id=request.case_id,
        timescale=Timescale(kind=request.conference_type, basis_date=request.basis_date,
                            previous_kind=request.previous_conference_type,
                            expected_birth_date=request.expected_birth_date),
        invitees=[Invitee.model_validate(p.model_dump()) for p in request.participants],
        family_area=family_area(request.family),
        step_free_access=needs_step_free(request.family.accessibility_needs),
        hearing_loop=needs_hearing_loop(request.family.accessibility_needs),
        previous_conference_id=request.previous_conference_id,
        interpreter_language=request.family.language if request.family.interpreter_needed else None,
    ), s)


async def plan(new: NewConference, s: Scheduling) -> Conference:
    """A conference for the request (the same request again: the same conference), planned by its deadline."""
    existing = await s.conferences.get(Conference.id_for(new.request_id))
    if existing:
        return existing
    now, calendar = s.clock.now(), s.council.calendar
    deadline = statutory_deadline(new.timescale, calendar, s.council.profile.policy_on(new.timescale.basis_date))
    if new.deadline_by:
        deadline = min(deadline, calendar.on_or_before(new.deadline_by))
    conference = Conference.requested(new, deadline, now)
    candidates, late_reason = await hold_candidates(conference, now, await _case_chair(new.case_id, s), s)
    conference.offer(candidates, late_reason, now, s.council)
    await s.cases.add(new.case_id, conference.id)  # listed first: a crash before the write leaves an id readers skip
    if await s.conferences.add(conference):
        if s.arrivals is not None:
            await s.arrivals.add(s.council.local_date(now))
        log.info("conference_planned", conference_id=conference.id, status=conference.status,
                 statutory_deadline=conference.statutory_deadline.isoformat())
    return conference


async def hold_candidates(conference: Conference, now: datetime, preferred: str | None, s: Scheduling,
                          exclude: frozenset[tuple[date, str]] = frozenset()) -> tuple[list[Candidate], str | None]:
    """Plan candidate sessions and hold their chairs; with them, why the conference would be late (None if not)."""
    calendar = s.council.calendar
    today = s.council.local_date(now)
    last = calendar.add_working_days(max(conference.statutory_deadline, today), LATE_HORIZON_WORKING_DAYS + 5)
    diary = await s.chairs.diary(today, last)
    planning = dict(kind=conference.conference_type, case_id=conference.case_id, deadline=conference.statutory_deadline,
                    now=now, profile=s.council.profile, calendar=calendar, diary=diary, preferred_chair=preferred)
    if s.planner == "solver":
        chosen = await solver_choice(conference, now, preferred, diary, exclude, s)
        if chosen is not None:
            # The solver's session first; in person, the greedy candidates after it, for the rooms service to fall
            # back on if the room the solver saw free is not (rooms knows holds in flight; scheduling its bookings).
            # A few: each is a chair's session held until rooms answer, and let go one by one after.
            others = [] if chosen.attendance_mode == "virtual" else [
                c for c in plan_candidates(**planning, exclude=exclude | {(chosen.day, chosen.session.split("|")[1])},  # type: ignore[arg-type]
                                           limit=FALLBACKS_BEHIND_SOLVER)
                if c.attendance_mode == chosen.attendance_mode]
            held = await s.chairs.hold(conference.id, [chosen, *others], now, booked=chosen.attendance_mode == "virtual")
            if held and held[0] == chosen:
                return held, why_late(**planning, candidates=held)  # type: ignore[arg-type]
            await s.chairs.release_holds(conference.id, [c.key for c in held])
        # Nothing the solver could place, or its chair taken meanwhile by another replica: planned greedily.
    planned = plan_candidates(**planning, exclude=exclude)  # type: ignore[arg-type]
    if planned and planned[0].attendance_mode == "virtual":
        held = await s.chairs.hold(conference.id, planned[:1], now, booked=True)
    else:  # rooms choose among in-person (or hybrid) candidates of the same mode as the first
        same_mode = [c for c in planned if c.attendance_mode == (planned[0].attendance_mode if planned else None)]
        held = await s.chairs.hold(conference.id, same_mode, now)
    return held, why_late(**planning, candidates=held)  # type: ignore[arg-type]


async def plan_again(conference: Conference, now: datetime, preferred: str | None, s: Scheduling) -> None:
    """Plan a scheduled conference again from now (its chair session is let go; rooms book the new time)."""
    conference.plan_again()
    await s.chairs.release(conference.id, conference.chair_sessions())
    candidates, late_reason = await hold_candidates(conference, now, preferred, s)
    conference.offer(candidates, late_reason, now, s.council)


async def case_conferences(case_id: str, s: Scheduling) -> list[Conference]:
    found = [await s.conferences.get(conference_id) for conference_id in await s.cases.conference_ids(case_id)]
    return [conference for conference in found if conference]


async def _case_chair(case_id: str, s: Scheduling) -> str | None:
    """The chair of the case's latest conference (its usual chair, if another covered it): the same chair for its
    reviews where possible."""
    placed = [c for c in await case_conferences(case_id, s) if c.chair_id and c.starts_at]
    latest = max(placed, key=lambda c: c.starts_at or datetime.min, default=None)
    return (latest.usual_chair_id or latest.chair_id) if latest else None


# Rooms' answers --------------------------------------------------------------------------------

async def room_booked(booked: RoomBooked, s: Scheduling) -> None:
    conference = await s.conferences.get(booked.conference_id)
    if conference is None or not conference.waits_for(booked.room_request_id):
        return  # answered already, or superseded
    chosen = conference.candidate_at(booked.starts_at)
    if chosen is None:
        log.warning("booked_slot_not_offered", conference_id=conference.id)
        return
    now = s.clock.now()
    if not await s.chairs.book(conference.id, chosen.chair_id, chosen.session, booked.room_id,
                               others=conference.chair_sessions()):
        # The hold ran out before the room came back: the session is booked again if nobody took it meanwhile.
        if await s.chairs.hold(conference.id, [chosen], now, booked=True):
            log.warning("expired_chair_hold_reclaimed", conference_id=conference.id)
        else:
            log.error("chair_hold_lost", conference_id=conference.id, chair_id=chosen.chair_id)
    conference.room_booked(chosen, booked.office_id, booked.room_id, booked.booking_id, booked.hybrid, now, s.council)
    await s.conferences.save(conference)


async def room_unavailable(unavailable: RoomUnavailable, s: Scheduling) -> None:
    conference = await s.conferences.get(unavailable.conference_id)
    if conference is None or not conference.waits_for(unavailable.room_request_id):
        return
    now = s.clock.now()
    # None of the candidates offered had a room: their chairs are let go (before any others are held).
    await s.chairs.release_holds(conference.id, [c.key for c in conference.candidates])
    if conference.status == ConferenceStatus.MOVING:
        conference.move_not_possible(now)
        if not await s.chairs.hold(conference.id, [conference.here_and_now()], now, booked=True):
            # Its old session went to another conference (the planner moved it to make room): planned again.
            conference.note("replanned_session_gone", now)
            await plan_again(conference, now, conference.chair_id, s)
        await s.conferences.save(conference)
        return
    offered = conference.offered()
    candidates: list[Candidate] = []
    late_reason = conference.late_reason
    if conference.room_attempts < ROOM_ATTEMPTS:
        candidates, late_reason = await hold_candidates(conference, now, conference.chair_id, s, exclude=offered)
    if (late_reason or not candidates) and any(day <= conference.statutory_deadline for day, _ in offered):
        late_reason = "no_room_before_deadline"  # chairs were free in time; rooms were not
    conference.offer(candidates, late_reason, now, s.council)
    await s.conferences.save(conference)


async def expire_chair_holds(s: Scheduling) -> None:
    """Holds not confirmed in time go; so do the sessions of days gone by."""
    now = s.clock.now()
    await s.chairs.expire_holds(now)
    await s.chairs.forget_before(s.council.local_date(now))


# From the case-management system ---------------------------------------------------------------

async def outcome_recorded(outcome: ConferenceOutcomeRecorded, envelope_id: str, s: Scheduling) -> None:
    held = await s.conferences.get(outcome.conference_id)
    if held is None or held.case_id != outcome.case_id:
        raise Rejected(f"no conference {outcome.conference_id} for case {outcome.case_id}")
    profile, calendar = s.council.profile, s.council.calendar
    held.held(outcome.outcome, outcome.held_on, outcome.quorate)
    await s.conferences.save(held)
    policy = profile.policy_on(outcome.held_on)
    await s.tasks.add(held.id, held.case_id, after_conference(
        outcome.held_on, outcome.outcome, makes_a_plan=outcome.quorate or policy.quoracy_waived, policy=policy,
        calendar=calendar))
    follow_on = dict(case_id=held.case_id, invitees=held.invitees, family_area=held.family_area,
                     step_free_access=held.step_free_access, hearing_loop=held.hearing_loop,
                     previous_conference_id=held.id, interpreter_language=held.interpreter_language)
    if not outcome.quorate and not policy.quoracy_waived and outcome.outcome != "plan_ended":
        # An inquorate conference cannot make a plan: the chair sets an interim plan and a new date.
        await plan(NewConference(
            request_id=f"{held.id}/reconvened",
            timescale=Timescale(kind=held.conference_type, basis_date=outcome.held_on, reconvened=True,
                                previous_kind=held.previous_conference_type, expected_birth_date=None),
            reconvened_from=held.id, **follow_on), s)  # type: ignore[arg-type]
    elif outcome.outcome in ("plan_started", "plan_continued"):
        birth = await s.cases.born_on(held.case_id) or held.expected_birth_date
        await plan(NewConference(request_id=f"{held.id}/next-review",
                                 timescale=next_review(held.conference_type, outcome.held_on, birth),
                                 **follow_on), s)  # type: ignore[arg-type]
    elif outcome.outcome == "plan_ended":
        await cancel_upcoming(outcome.case_id, None, "plan_ended", envelope_id, s)


async def cancellation_requested(request: ConferenceCancellationRequested, envelope_id: str, s: Scheduling) -> None:
    # The council's free-text reason stays in its own system; the event says only who cancelled.
    # A cancellation for a case or conference never requested here cancels nothing: it is refused with the reason,
    # so the team sees it on the dead-letter topic (one repeated for a conference already cancelled or held is not).
    known = await s.cases.conference_ids(request.case_id)
    if not known:
        raise Rejected(f"no conference for case {request.case_id}: nothing to cancel")
    if request.conference_id and request.conference_id not in known:
        raise Rejected(f"no conference {request.conference_id} for case {request.case_id}: nothing to cancel")
    await cancel_upcoming(request.case_id, request.conference_id or None, "cancelled_by_council", envelope_id, s)


async def cancel_upcoming(case_id: str, conference_id: str | None, reason: str, cause: str, s: Scheduling) -> None:
    for conference in await case_conferences(case_id, s):
        if not conference.upcoming or conference_id not in (None, conference.id):
            continue
        conference.cancel(reason, s.clock.now(), cause)
        await s.conferences.save(conference)
        await s.chairs.release(conference.id, conference.chair_sessions())


async def case_details_changed(change: CaseDetailsChanged, envelope_id: str, s: Scheduling) -> None:
    # Details of a case with no conference change nothing here: refused with the reason, so a mistyped case id is
    # seen (notifications still keeps the contact details, for a request that may follow).
    if not await s.cases.conference_ids(change.case_id):
        raise Rejected(f"no conference for case {change.case_id}: no invitation to change")
    now = s.clock.now()
    if change.participants:  # the case's participants now (an empty list would invite nobody: ignored)
        participants = [Invitee.model_validate(p.model_dump()) for p in change.participants]
        for conference in await case_conferences(change.case_id, s):
            if conference.participants_changed(participants, now, s.council):
                await s.conferences.save(conference)
    if change.family is None:
        return
    area = family_area(change.family)
    for conference in await case_conferences(change.case_id, s):
        if conference.status != ConferenceStatus.SCHEDULED or conference.attendance_mode == "virtual" \
                or conference.family_area == area:
            continue
        # Same time and chair, in the office nearest the family's new home.
        current = conference.here_and_now()
        room_request = RoomRequested(
            conference_id=conference.id, case_id=conference.case_id,
            room_request_id=event_id("room-move", conference.id, envelope_id),
            attendance_mode=current.attendance_mode, in_person_attendees=len(conference.invitees) + 1,
            family_area=area, step_free_access=needs_step_free(change.family.accessibility_needs),
            hearing_loop=needs_hearing_loop(change.family.accessibility_needs),
            candidates=[Slot(starts_at=current.starts_at, ends_at=current.ends_at)],
            statutory_deadline=conference.statutory_deadline, nearer_than_office_id=conference.office_id,
        )
        conference.candidates = [current]
        conference.move(room_request, now)
        await s.conferences.save(conference)
