"""Planning a window of conferences together, with a constraint solver (OR-Tools CP-SAT), when one at a time
would leave some late (`planning.py` plans one at a time, in the order requests arrive).

Each conference gets one option: a session (day and start) with, when the policy of that day holds it in person,
one of the suitable rooms in the offices nearest the family (`Need.rooms`, as the rooms service ranks them:
`cpc_rooms.domain.offices`), or virtual; or none (left unplaced, at a cost higher than any lateness).

Hard rules:
- a chair never in two places: in each session no more conferences than chairs free then (working that day,
  not away, not already holding a conference), and in each day no more than the chairs' daily capacity;
- a room never double-booked; an office only on the days it is open, a room only when in use;
- no conference sooner than the invitations' minimum notice;
- at most `max_moves` conferences already planned move (those whose invitations went out for a date less than
  N working days away are not given to the solver at all: they are `Occupancy`).

Preferences (the objective, in `Weights`): on time first, initial conferences weighing most (as Essex did:
initial conferences first); then few moves; the family's nearest office (km); initial conferences early
and reviews in their window; the agencies' usual time for reports; the case's own chair.

Chairs within one session are interchangeable but for the case's own chair, so the model counts them per session
and names them after solving: the case's chair (or the one it has) where free, else the least loaded chair in
the period (chairs' load balanced). With `max_per_day` at least the sessions in a day, as in both councils'
profiles, naming a chair for each conference placed always succeeds.
"""

from __future__ import annotations

import statistics
import time as wall
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.contracts.outbound import AttendanceMode, FamilyArea, RoomRequested
from cpc_shared.offices import distance_km, offices_by_nearness, suitable_rooms
from cpc_shared.profile import Profile
from ortools.sat.python import cp_model

from cpc_scheduling.domain.planning import (
    ChairDiary,
    earliest_day,
    first_day_for_invitations,
    first_day_to_try,
)


@dataclass(frozen=True)
class Placement:
    """Where and when a conference is, with whom: identifiers only."""

    conference_id: str
    day: date
    at: time
    chair_id: str
    mode: AttendanceMode
    office_id: str | None = None
    room_id: str | None = None

    @property
    def where(self) -> tuple[date, time, str | None]:
        """What the people invited see change when it moves: the day, the time, the office."""
        return self.day, self.at, self.office_id


@dataclass(frozen=True)
class RoomChoice:
    """A room that suits the conference, in an office near the family (`km` from the family's area)."""

    office_id: str
    room_id: str
    km: float


@dataclass(frozen=True)
class Need:
    """A conference to place, as the planner sees it: identifiers, its deadline, and the rooms that would suit it
    by attendance mode (in_person, hybrid), nearest office first; nothing about the family."""

    conference_id: str
    case_id: str
    kind: str
    deadline: date
    rooms: dict[str, tuple[RoomChoice, ...]] = field(default_factory=dict)
    preferred_chair: str | None = None
    current: Placement | None = None  # planned already and may stay: a move costs, and counts against `max_moves`


@dataclass
class Occupancy:
    """What stays where it is: chair sessions taken, chairs away, rooms booked (room id, day, start); and sessions
    not to offer at all (offered to the rooms service already, without a room)."""

    chairs: ChairDiary = field(default_factory=ChairDiary)
    rooms: set[tuple[str, date, time]] = field(default_factory=set)
    closed: frozenset[tuple[date, time]] = frozenset()


SOLVER_OFFICES = 4  # the solver chooses among the nearest four offices (the rooms service: every office within reach)
PRESSURE_HORIZON = 15  # working days ahead in which free chairs are counted against the conferences expected
EXPECTED_WITHIN_HORIZON = 0.5  # of the requests expected in that time, the share held within it (tried: 0.25-2/3)
RECENT_WORKING_DAYS = 5  # the rate of requests expected: that of the last five working days


def room_choices(area: FamilyArea, attendees: int, step_free: bool, hearing_loop: bool, mode: str,
                 profile: Profile) -> tuple[RoomChoice, ...]:
    """The rooms service's ranking: offices nearest first, each one's suitable rooms smallest first."""
    wanted = RoomRequested(conference_id="planning", case_id="planning", room_request_id="planning",
                           attendance_mode=mode, in_person_attendees=attendees, family_area=area,
                           step_free_access=step_free, hearing_loop=hearing_loop, candidates=[])
    offices = offices_by_nearness(area, profile)
    if area.lat is not None and area.lon is not None:
        lat, lon = area.lat, area.lon
    else:
        lat, lon = offices[0].location.lat, offices[0].location.lon
    return tuple(RoomChoice(office.id, room.id, distance_km(lat, lon, office.location.lat, office.location.lon))
                 for office in offices for room in suitable_rooms(office, wanted))


def nearest_offices(need: Need, keep: int = SOLVER_OFFICES) -> Need:
    """The need with the rooms of its nearest `keep` offices only (and the one it is in, if planned)."""
    kept = {}
    for mode, choices in need.rooms.items():
        offices = list(dict.fromkeys(c.office_id for c in choices))[:keep]
        if need.current and need.current.office_id:
            offices.append(need.current.office_id)
        kept[mode] = tuple(c for c in choices if c.office_id in offices)
    return Need(need.conference_id, need.case_id, need.kind, need.deadline, kept, need.preferred_chair, need.current)


def recent_working_days(today: date, calendar: WorkingDayCalendar) -> list[date]:
    """The last `RECENT_WORKING_DAYS` working days, today first if it is one: the days whose requests set the rate."""
    recent: list[date] = []
    day = today
    while len(recent) < RECENT_WORKING_DAYS:
        if calendar.is_working_day(day):
            recent.append(day)
        day -= timedelta(days=1)
    return recent


def under_pressure(diary: ChairDiary, recent_arrivals: list[int], now: datetime, profile: Profile,
                   calendar: WorkingDayCalendar) -> bool:
    """Would the chairs' free sessions in the coming weeks fall short of the conferences expected (at the rate of
    the last working days: `recent_arrivals`, requests a day)? A rough forecast: half of the next
    `PRESSURE_HORIZON` working days' requests are held within them."""
    if not recent_arrivals:
        return False
    zone = ZoneInfo(profile.timezone)
    today = now.astimezone(zone).date()
    expected = statistics.fmean(recent_arrivals) * PRESSURE_HORIZON * EXPECTED_WITHIN_HORIZON
    free = 0
    day = first_day_for_invitations(now, profile.policy_on(today), calendar, zone)
    for _ in range(PRESSURE_HORIZON):
        for chair in profile.chairs:
            if chair.available_on(day) and not diary.is_away(chair.id, day):
                sessions = sum(1 for at in profile.session_starts if (chair.id, day, at) not in diary.taken)
                free += min(sessions, chair.max_per_day - diary.load(chair.id, day))
        day = calendar.add_working_days(day, 1)
    return expected > free


@dataclass(frozen=True)
class Weights:
    unplaced: int = 200_000
    late_initial: int = 40_000  # initial conferences first: late costs most
    late_initial_per_day: int = 3_000  # once late, as soon as possible: above a day of reports' time
    late_other: int = 15_000  # above the reports' usual time shortened by ten working days
    late_other_per_day: int = 1_500
    move: int = 400
    per_km: int = 40  # the office nearest the family (the councils' rule) before an earlier day elsewhere
    per_day_initial_later: int = 15  # earlier rather than later
    per_day_review_early: int = 4  # a review before its window
    per_day_review_before_deadline: int = 0  # (under pressure) reviews close to their deadline
    later_from_notice: bool = False  # initial conferences: "later" from the first day invitations allow
    per_day_reports_shortened: int = 1_000  # sooner than the agencies' usual time: before an office 25 km nearer
    other_chair: int = 30  # not the case's own chair

    def under_pressure(self) -> Weights:
        """When the coming weeks' chairs cannot hold the conferences expected, a session left empty now is lost
        to the initial conferences still to come: each initial conference as early as its notice allows (the
        reports' usual time giving way), and reviews as close to their deadline as they can be, leaving the
        nearer sessions to initial conferences."""
        return Weights(**{**self.__dict__, "per_day_initial_later": 60, "per_day_reports_shortened": 0,
                          "per_day_review_before_deadline": 10, "later_from_notice": True})


@dataclass
class WindowPlan:
    placements: dict[str, Placement]
    unplaced: list[str]
    moved: list[str]
    seconds: float
    status: str
    options: int


@dataclass(frozen=True)
class _Option:
    day: date
    at: time
    mode: AttendanceMode
    office_id: str | None
    room_id: str | None
    cost: int


def plan_window(needs: Iterable[Need], occupancy: Occupancy, now: datetime, profile: Profile,
                calendar: WorkingDayCalendar, *, weights: Weights = Weights(), max_moves: int | None = None,
                late_horizon_working_days: int = 10, time_limit_seconds: float = 10.0,
                workers: int = 2, chair_load: Counter[str] | None = None,
                deterministic_limit: float | None = None) -> WindowPlan:
    """The best placement of `needs` around `occupancy` (which it does not change) found in the time given.

    `deterministic_limit` bounds the search by the solver's deterministic time instead of the clock's (with one
    worker: the same answer on a busy machine as on an idle one)."""
    started = wall.monotonic()
    needs = list(needs)
    zone = ZoneInfo(profile.timezone)
    today = now.astimezone(zone).date()
    sessions = list(profile.session_starts)
    free_chairs = _FreeChairs(profile, occupancy.chairs)
    model = cp_model.CpModel()
    chosen: dict[str, list[tuple[_Option, cp_model.IntVar]]] = {}
    objective: list[cp_model.LinearExprT] = []
    by_session: dict[tuple[date, time], list[cp_model.IntVar]] = {}
    by_day: dict[date, list[cp_model.IntVar]] = {}
    by_room: dict[tuple[str, date, time], list[cp_model.IntVar]] = {}
    moved_vars: list[cp_model.IntVar] = []
    count = 0
    for need in needs:
        options = _options(need, now, today, profile, calendar, free_chairs, occupancy, sessions, zone, weights,
                           late_horizon_working_days)
        unplaced = model.new_bool_var(f"unplaced[{need.conference_id}]")
        variables = [(option, model.new_bool_var(f"x[{need.conference_id},{count + i}]"))
                     for i, option in enumerate(options)]
        count += len(variables)
        chosen[need.conference_id] = variables
        model.add_exactly_one([unplaced, *(v for _, v in variables)])
        objective.append(weights.unplaced * unplaced)
        objective.extend(option.cost * var for option, var in variables)
        for option, var in variables:
            by_session.setdefault((option.day, option.at), []).append(var)
            by_day.setdefault(option.day, []).append(var)
            if option.room_id:
                by_room.setdefault((option.room_id, option.day, option.at), []).append(var)
        if need.current is not None:
            stays = [var for option, var in variables
                     if (option.day, option.at, option.office_id) == need.current.where]
            moved = model.new_bool_var(f"moved[{need.conference_id}]")
            model.add(moved + sum(stays) == 1)  # unplaced counts as moved (and costs more)
            moved_vars.append(moved)
            objective.append(weights.move * moved)
    for (day, at), in_session in by_session.items():
        model.add(sum(in_session) <= free_chairs.in_session(day, at))
    for day, in_day in by_day.items():
        model.add(sum(in_day) <= free_chairs.in_day(day, sessions))
    for in_room in by_room.values():
        if len(in_room) > 1:
            model.add_at_most_one(in_room)
    if max_moves is not None and moved_vars:
        model.add(sum(moved_vars) <= max_moves)
    model.minimize(sum(objective))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_seconds
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 1
    if deterministic_limit is not None:
        solver.parameters.max_deterministic_time = deterministic_limit
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return WindowPlan({}, [n.conference_id for n in needs], [], wall.monotonic() - started,
                          solver.status_name(status), count)
    picked = {need.conference_id: next((option for option, var in chosen[need.conference_id]
                                        if solver.boolean_value(var)), None) for need in needs}
    placements, unplaced_ids = _name_chairs(needs, picked, profile, occupancy.chairs, chair_load or Counter())
    moved_ids = [need.conference_id for need in needs if need.current is not None and (
        need.conference_id not in placements or placements[need.conference_id].where != need.current.where)]
    return WindowPlan(placements, unplaced_ids, moved_ids, wall.monotonic() - started, solver.status_name(status),
                      count)


class _FreeChairs:
    """Which chairs are free when, as the diary says (read often while building options: remembered, and
    forgotten when a chair is named)."""

    def __init__(self, profile: Profile, diary: ChairDiary) -> None:
        self.profile, self.diary = profile, diary
        self.sessions_a_day = len(profile.session_starts)
        self.loads: Counter[tuple[str, date]] = Counter((chair, day) for chair, day, _ in diary.taken)
        self.counted: dict[tuple[date, time], int] = {}

    def free(self, chair_id: str, day: date, at: time) -> bool:
        chair = self.profile.chair(chair_id)
        return bool(chair and chair.available_on(day) and not self.diary.is_away(chair_id, day)
                    and (chair_id, day, at) not in self.diary.taken
                    and self.loads[(chair_id, day)] < min(chair.max_per_day, self.sessions_a_day))

    def take(self, chair_id: str, day: date, at: time) -> None:
        self.diary.take(chair_id, day, at)
        self.loads[(chair_id, day)] += 1
        self.counted.pop((day, at), None)

    def in_session(self, day: date, at: time) -> int:
        if (day, at) not in self.counted:
            self.counted[(day, at)] = sum(1 for chair in self.profile.chairs if self.free(chair.id, day, at))
        return self.counted[(day, at)]

    def in_day(self, day: date, sessions: list[time]) -> int:
        total = 0
        for chair in self.profile.chairs:
            open_sessions = sum(1 for at in sessions if self.free(chair.id, day, at))
            if open_sessions:
                total += max(0, min(open_sessions,
                                    min(chair.max_per_day, self.sessions_a_day) - self.loads[(chair.id, day)]))
        return total


def _options(need: Need, now: datetime, today: date, profile: Profile, calendar: WorkingDayCalendar,
             free_chairs: _FreeChairs, occupancy: Occupancy, sessions: list[time], zone: ZoneInfo, weights: Weights,
             late_horizon: int) -> list[_Option]:
    policy = profile.policy_on(today)
    notice = first_day_for_invitations(now, policy, calendar, zone)
    usual = earliest_day(now, policy, calendar, zone, need.kind)
    first = first_day_to_try(need.kind, need.deadline, usual, policy, calendar)
    last = calendar.add_working_days(max(need.deadline, notice), late_horizon)
    offices = {office.id: office for office in profile.offices}
    rooms = {(office.id, room.id): room for office in profile.offices for room in office.rooms}
    length = timedelta(minutes=profile.conference_minutes[need.kind])  # type: ignore[index]
    options: list[_Option] = []
    day = calendar.on_or_after(notice)
    while day <= last:
        mode: AttendanceMode = profile.policy_on(day).attendance[need.kind]  # type: ignore[index]
        base = _time_cost(need, day, notice if weights.later_from_notice and need.kind != "review" else first, usual,
                          calendar, weights)
        for at in sessions:
            if (day, at) in occupancy.closed or free_chairs.in_session(day, at) == 0:
                continue
            chair_cost = weights.other_chair if need.preferred_chair and not free_chairs.free(
                need.preferred_chair, day, at) else 0
            if mode == "virtual":
                options.append(_Option(day, at, mode, None, None, base + chair_cost))
                continue
            starts = datetime.combine(day, at, tzinfo=zone)
            for choice in need.rooms.get(mode, ()):
                office, room = offices[choice.office_id], rooms[(choice.office_id, choice.room_id)]
                if office.open_for(starts, starts + length, zone) and room.in_use_on(day) \
                        and (room.id, day, at) not in occupancy.rooms:
                    cost = base + chair_cost + weights.per_km * round(choice.km)
                    options.append(_Option(day, at, mode, office.id, room.id, cost))
        day = calendar.add_working_days(day, 1)
    return options


def _time_cost(need: Need, day: date, first: date, usual: date, calendar: WorkingDayCalendar, weights: Weights) -> int:
    cost = 0
    if day > need.deadline:
        days_late = calendar.working_days_between(need.deadline, day)
        if need.kind == "review":
            cost += weights.late_other + weights.late_other_per_day * days_late
        else:
            cost += weights.late_initial + weights.late_initial_per_day * days_late
    if day < usual:
        cost += weights.per_day_reports_shortened * calendar.working_days_between(day, usual)
    if need.kind == "review":
        if day < first:
            cost += weights.per_day_review_early * calendar.working_days_between(day, first)
        cost += weights.per_day_review_before_deadline * calendar.working_days_between(day, need.deadline)
    elif day > first:
        cost += weights.per_day_initial_later * calendar.working_days_between(first, day)
    return cost


def _name_chairs(needs: list[Need], picked: dict[str, _Option | None], profile: Profile, diary: ChairDiary,
                 load: Counter[str]) -> tuple[dict[str, Placement], list[str]]:
    """A chair for each conference placed: the case's own (or the one it has) where free, else the least loaded."""
    diary = diary.copy()
    free_chairs = _FreeChairs(profile, diary)
    placements: dict[str, Placement] = {}
    unplaced: list[str] = []
    # Those with a chair of their own first, so that another conference does not take it.
    ordered = sorted(needs, key=lambda n: (n.preferred_chair is None and n.current is None, n.conference_id))
    for need in ordered:
        option = picked[need.conference_id]
        if option is None:
            unplaced.append(need.conference_id)
            continue
        wanted = [c for c in (need.preferred_chair, need.current.chair_id if need.current else None) if c]
        chair_id = next((c for c in wanted if free_chairs.free(c, option.day, option.at)), None)
        if chair_id is None:
            free = [c.id for c in profile.chairs if free_chairs.free(c.id, option.day, option.at)]
            chair_id = min(free, key=lambda c: (load[c], c), default=None)
        if chair_id is None:
            unplaced.append(need.conference_id)
            continue
        free_chairs.take(chair_id, option.day, option.at)
        load[chair_id] += 1
        placements[need.conference_id] = Placement(need.conference_id, option.day, option.at, chair_id, option.mode,
                                                   option.office_id, option.room_id)
    return placements, unplaced
