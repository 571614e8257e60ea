"""The solver's choice for one conference, as the scheduling service plans it (`CPC_PLANNER=solver`).

Each conference, as its request arrives, is placed by the CP-SAT planner (domain/solver.py) around what is booked:
chairs' sessions and absences, rooms. When that leaves it late, the affected window is planned again with the
conferences already scheduled that may move (at most `max_moves`; never one fewer than `frozen_working_days`
away, whose invitations the family is acting on). A conference moved goes to its new session as a chair's
reschedule does: its chair session at once, a room asked for the new time, subscribers told by
ConferenceRescheduled when the room is booked.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from cpc_shared.contracts.outbound import RoomRequested, Slot
from cpc_shared.envelope import event_id
from cpc_shared.logging import get_logger

from cpc_scheduling.domain.conference import Conference, ConferenceStatus
from cpc_scheduling.domain.planning import LATE_HORIZON_WORKING_DAYS, Candidate, ChairDiary
from cpc_scheduling.domain.solver import (
    Need,
    Occupancy,
    Placement,
    Weights,
    WindowPlan,
    nearest_offices,
    plan_window,
    recent_working_days,
    room_choices,
    under_pressure,
)

if TYPE_CHECKING:
    from cpc_scheduling.handlers import Scheduling

log = get_logger(__name__)

# Solves take turns on one thread of their own: CP-SAT's memory stays with the allocator of the thread that solved,
# and on the event loop's default pool (up to six threads) requests arriving together took scheduling past 200 MB.
_SOLVER_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="solver")
MOVABLE_AT_MOST = 20  # conferences already scheduled that one window may consider moving (reviews first)
AFTER_DEADLINE_WORKING_DAYS = 5  # the window reaches this far past the late conference's deadline
WINDOW_SECONDS_PER_CONFERENCE = 5  # a window with moves: five times one conference's time


async def solver_choice(conference: Conference, now: datetime, preferred: str | None, diary: ChairDiary,
                        exclude: frozenset[tuple[date, str]], s: Scheduling) -> Candidate | None:
    """The solver's session, chair and room for one conference around what is booked (None if it places it
    nowhere). When the coming weeks' chairs cannot hold the conferences expected at the recent rate of requests,
    initial conferences go as early as the invitations' notice allows and reviews close to their deadline."""
    council = s.council
    need = _need(conference, preferred, None, s)
    pressed = under_pressure(diary, await _recent_arrivals(now, s), now, council.profile, council.calendar)
    weights = Weights().under_pressure() if pressed else Weights()
    closed = frozenset((day, datetime.strptime(at, "%H:%M").time()) for day, at in exclude)
    plan = await _solve([need], Occupancy(diary, diary.rooms, closed), diary, now, weights, 0, s.solver_seconds, s)
    placed = plan.placements.get(conference.id)
    if (placed is None or placed.day > conference.statutory_deadline) and s.max_moves and not exclude \
            and not s.moves_did_not_help.covers(council.local_date(now), conference.statutory_deadline):
        moved = await _with_moves(need, diary, now, weights, s)
        if moved is None:
            s.moves_did_not_help.note(council.local_date(now), conference.statutory_deadline)
        placed = moved or placed
    if placed is None:
        log.info("solver_placed_nothing", conference_id=conference.id, status=plan.status)
        return None
    log.info("solver_placed", conference_id=conference.id, under_pressure=pressed, seconds=round(plan.seconds, 3))
    return _candidate(placed, conference, s)


class MovesDidNotHelp:
    """The latest deadline for which moving conferences could not bring one in time, today: a conference due by
    then is not tried again today (under a flood of requests every one would be, each costing a window's solve).
    Kept in the process: a replica that has not tried yet tries once."""

    def __init__(self) -> None:
        self.day: date | None = None
        self.deadline: date | None = None

    def covers(self, today: date, deadline: date) -> bool:
        return self.day == today and self.deadline is not None and deadline <= self.deadline

    def note(self, today: date, deadline: date) -> None:
        if self.day != today:
            self.day, self.deadline = today, None
        self.deadline = max(self.deadline or deadline, deadline)


async def _with_moves(need: Need, diary: ChairDiary, now: datetime, weights: Weights,
                      s: Scheduling) -> Placement | None:
    """Plan the late conference again with the conferences scheduled in its window that may move; if that puts
    it in time, move them (their chair sessions at once, rooms asked for the new times) and return its place."""
    council, calendar = s.council, s.council.calendar
    today = council.local_date(now)
    frozen_until = calendar.add_working_days(today, s.frozen_working_days)
    until = calendar.add_working_days(need.deadline, AFTER_DEADLINE_WORKING_DAYS)
    # Those with time to spare: a conference already at its deadline cannot make room by moving later.
    scheduled = [c for c in await s.conferences.find({"status": ConferenceStatus.SCHEDULED.value})
                 if c.starts_at and c.id != need.conference_id
                 and frozen_until <= council.local_date(c.starts_at) <= until
                 and council.local_date(c.starts_at) < c.statutory_deadline]
    # Reviews first (the most room before their deadlines), nearest first; a bounded window.
    scheduled.sort(key=lambda c: (c.conference_type != "review", c.starts_at))
    movable = {c.id: c for c in scheduled[:MOVABLE_AT_MOST]}
    if not movable:
        return None
    current = {c.id: _placement(c, s) for c in movable.values()}
    # The diary without the sessions and rooms of those that may move.
    around = ChairDiary(diary.taken - {(p.chair_id, p.day, p.at) for p in current.values()}, diary.away,
                        diary.rooms - {(p.room_id, p.day, p.at) for p in current.values() if p.room_id})
    needs = [need, *(_need(c, c.chair_id, current[c.id], s) for c in movable.values())]
    plan = await _solve(needs, Occupancy(around, around.rooms), around, now, weights, s.max_moves,
                        WINDOW_SECONDS_PER_CONFERENCE * s.solver_seconds, s, late_horizon=AFTER_DEADLINE_WORKING_DAYS)
    placed = plan.placements.get(need.conference_id)
    if placed is None or placed.day > need.deadline:
        return None  # moving others does not bring it in time
    if any(c not in plan.placements for c in plan.moved):
        return None  # a move that leaves a conference unplaced is never made
    for conference_id in plan.moved:
        await _move(movable[conference_id], plan.placements[conference_id], now, s)
    log.info("window_replanned", conference_id=need.conference_id, moved=len(plan.moved))
    return placed


async def _move(conference: Conference, to: Placement, now: datetime, s: Scheduling) -> None:
    """A conference moved by the planner: its old chair session is let go now (the late conference takes it),
    the new one held; in person, a room is asked for the new time (ConferenceRescheduled when it is booked; if none
    is, the conference is planned again); virtual, it is rescheduled at once."""
    chosen = _candidate(to, conference, s)
    await s.chairs.release(conference.id, conference.chair_sessions())
    virtual = chosen.attendance_mode == "virtual"
    if not await s.chairs.hold(conference.id, [chosen], now, booked=virtual):
        log.warning("planner_move_session_taken", conference_id=conference.id)
        return
    conference.note("moved_by_planner", now, to=chosen.starts_at)
    if virtual:
        conference.schedule(chosen, office_id=None, room_id=None, booking_id=None, now=now, council=s.council)
    else:
        conference.candidates = [chosen]
        conference.move(RoomRequested(
            conference_id=conference.id, case_id=conference.case_id,
            room_request_id=event_id("room-planner-move", conference.id, conference.version, chosen.starts_at.isoformat()),
            attendance_mode=chosen.attendance_mode, in_person_attendees=len(conference.invitees) + 1,
            family_area=conference.family_area, step_free_access=conference.step_free_access,
            hearing_loop=conference.hearing_loop, candidates=[Slot(starts_at=chosen.starts_at, ends_at=chosen.ends_at)],
            statutory_deadline=conference.statutory_deadline,
        ), now)
    await s.conferences.save(conference)


async def _solve(needs: list[Need], occupancy: Occupancy, diary: ChairDiary, now: datetime, weights: Weights,
                 max_moves: int, seconds: float, s: Scheduling, late_horizon: int = LATE_HORIZON_WORKING_DAYS
                 ) -> WindowPlan:
    """On the solver's thread (solves take turns), one worker and the solver's own measure of time (the same answer
    however busy the machine is); four times as many seconds on the clock at most. A window looks `late_horizon`
    working days past each deadline (a conference alone: as far as the greedy planner would)."""
    load = Counter(chair for chair, _, _ in diary.taken)
    return await asyncio.get_running_loop().run_in_executor(_SOLVER_THREAD, functools.partial(
        plan_window, needs, occupancy, now, s.council.profile, s.council.calendar, weights=weights,
        max_moves=max_moves, late_horizon_working_days=late_horizon, time_limit_seconds=4 * seconds,
        deterministic_limit=seconds, workers=1, chair_load=load))


def _need(conference: Conference, preferred: str | None, current: Placement | None, s: Scheduling) -> Need:
    attendees = len(conference.invitees) + 1
    profile = s.council.profile
    return nearest_offices(Need(
        conference.id, conference.case_id, conference.conference_type, conference.statutory_deadline,
        rooms={mode: room_choices(conference.family_area, attendees, conference.step_free_access,
                                  conference.hearing_loop, mode, profile) for mode in ("in_person", "hybrid")},
        preferred_chair=preferred, current=current))


def _placement(conference: Conference, s: Scheduling) -> Placement:
    assert conference.starts_at is not None and conference.chair_id is not None
    local = conference.starts_at.astimezone(s.council.zone)
    return Placement(conference.id, local.date(), local.time().replace(tzinfo=None), conference.chair_id,
                     conference.attendance_mode, conference.office_id, conference.room_id)  # type: ignore[arg-type]


def _candidate(placed: Placement, conference: Conference, s: Scheduling) -> Candidate:
    starts = datetime.combine(placed.day, placed.at, tzinfo=s.council.zone)
    length = timedelta(minutes=s.council.profile.conference_minutes[conference.conference_type])
    return Candidate(starts, starts + length, placed.chair_id, f"{placed.day.isoformat()}|{placed.at:%H:%M}",
                     placed.mode)


async def _recent_arrivals(now: datetime, s: Scheduling) -> list[int]:
    """Conferences asked for on each of the last working days (today's so far included)."""
    recent = recent_working_days(s.council.local_date(now), s.council.calendar)
    return await s.arrivals.on(recent) if s.arrivals is not None else []
