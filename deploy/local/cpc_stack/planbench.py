"""`./dev plan-bench`: today's greedy planner against the CP-SAT window planner, side by side, on the same seeded
workload and scenario, without Kafka or a store.

The workload is the simulation's (`simulation/workload.py`: referrals and reviews of plans that began before the
system, at the same rates and hours, the scenario's surge applied); the council's profile as the scenario changes
it (offices closed, closure days, all virtual); chairs' absences entered when the scenario says (leave before the
period, sickness on its first morning). Reviews that outcomes would start fall after a month and are left out.

- greedy: what the services do today, one request at a time as it arrives: `plan_candidates` (the chairs' sessions
  best first), then the rooms service's choice (the nearest office with a free suitable room, candidates by the
  deadline first), up to three batches of candidates; a chair's absence is covered by another chair at the same
  time where one is free, else the conference is planned again.
- solver: each working day at 17:00, the day's requests are planned together (`plan_window`); when that leaves any
  late, the affected window is planned again with the conferences already planned that may move: those on a date
  at least `--frozen-days` working days away (invitations for a nearer date are never overtaken), at most
  `--max-moves` of them moving. Absences as for greedy, the uncovered ones planned in that day's window.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cpc_scheduling.domain.conference import ROOM_ATTEMPTS
from cpc_scheduling.domain.planning import (
    ChairDiary,
    chair_for_session,
    earliest_day,
    family_area,
    needs_hearing_loop,
    needs_step_free,
    plan_candidates,
)
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
from cpc_scheduling.domain.timescales import Timescale, statutory_deadline
from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.contracts.inbound import Family
from cpc_shared.profile import Profile, load_profile

from cpc_stack.paths import REPO
from cpc_stack.simulation.runner import PROFILES
from cpc_stack.simulation.scenarios import Scenario, load_scenario
from cpc_stack.simulation.workload import Workload

WARM_UP_DAYS = 28  # requests before the period, so that it starts with the diaries a council would have
MOVABLE_AT_MOST = 40  # conferences already planned that one window may consider moving


@dataclass(frozen=True)
class Request:
    need: Need
    arrives: datetime


class IndexedDiary(ChairDiary):
    """A chair diary that counts each chair's day as it is taken (the planner asks often)."""

    def __init__(self, taken: set[tuple[str, date, time]] | None = None, away: set[tuple[str, date]] | None = None
                 ) -> None:
        super().__init__(set(taken or ()), set(away or ()))
        self.loads: Counter[tuple[str, date]] = Counter((chair, day) for chair, day, _ in self.taken)

    def load(self, chair_id: str, day: date) -> int:
        return self.loads[(chair_id, day)]

    def take(self, chair_id: str, day: date, at: time) -> None:
        if (chair_id, day, at) not in self.taken:
            self.taken.add((chair_id, day, at))
            self.loads[(chair_id, day)] += 1

    def let_go(self, chair_id: str, day: date, at: time) -> None:
        if (chair_id, day, at) in self.taken:
            self.taken.discard((chair_id, day, at))
            self.loads[(chair_id, day)] -= 1

    def copy(self) -> IndexedDiary:
        return IndexedDiary(self.taken, self.away)


def workload_requests(profile: Profile, scenario: Scenario, start: date, days: int, seed: int) -> list[Request]:
    """The simulation's requests for the period (the same rates, hours and seed), as the planners see them."""
    calendar, zone = profile.calendar(), ZoneInfo(profile.timezone)
    workload = Workload(profile, seed, calendar)
    requests: list[Request] = []
    for index in range(days):
        day = start + timedelta(days=index)
        if not calendar.is_working_day(day):
            continue
        for hour in (9, 10, 11, 14):
            now = datetime.combine(day, time(hour), tzinfo=zone)
            if hour == 10:
                raw = workload.legacy_reviews(day, now)
            else:
                raw = [r for r in workload.initial_requests(day, now, scenario.referral_factor(day))
                       if workload.chance(1 / 3) or hour == 9]
            requests += [Request(_need(r, profile, calendar), now) for r in raw]
    return requests


def _need(raw: dict[str, Any], profile: Profile, calendar: WorkingDayCalendar) -> Need:
    basis = date.fromisoformat(raw["basis_date"])
    kind = raw["conference_type"]
    deadline = statutory_deadline(Timescale(kind=kind, basis_date=basis, previous_kind=raw["previous_conference_type"]),
                                  calendar, profile.policy_on(basis))
    family = Family.model_validate(raw["family"])
    area = family_area(family)
    attendees = len(raw["participants"]) + 1
    step_free = needs_step_free(family.accessibility_needs)
    rooms = {mode: room_choices(area, attendees, step_free, needs_hearing_loop(family.accessibility_needs), mode, profile)
             for mode in ("in_person", "hybrid")}
    return Need(raw["request_id"], raw["case_id"], kind, deadline, rooms=rooms)


@dataclass
class State:
    """Where each conference is, with which chair and room; what moved; chairs away."""

    profile: Profile
    placements: dict[str, Placement] = field(default_factory=dict)
    diary: IndexedDiary = field(default_factory=IndexedDiary)
    rooms: set[tuple[str, date, time]] = field(default_factory=set)
    moves: Counter[str] = field(default_factory=Counter)
    first: dict[str, Placement] = field(default_factory=dict)

    def place(self, placement: Placement, previous: Placement | None = None) -> None:
        """Where a conference is now; a move when the day, the time or the office changed."""
        old = self.unplace(placement.conference_id) or previous
        if old is not None and old.where != placement.where:
            self.moves[placement.conference_id] += 1
        self.first.setdefault(placement.conference_id, placement)
        self.placements[placement.conference_id] = placement
        self.diary.take(placement.chair_id, placement.day, placement.at)
        if placement.room_id:
            self.rooms.add((placement.room_id, placement.day, placement.at))

    def unplace(self, conference_id: str) -> Placement | None:
        old = self.placements.pop(conference_id, None)
        if old is not None:
            self.diary.let_go(old.chair_id, old.day, old.at)
            if old.room_id:
                self.rooms.discard((old.room_id, old.day, old.at))
        return old


def greedy_place(need: Need, now: datetime, state: State, calendar: WorkingDayCalendar,
                 preferred: str | None = None) -> Placement | None:
    """Today's planner for one request: candidate sessions, then the rooms service's answer, three times at most."""
    profile, zone = state.profile, ZoneInfo(state.profile.timezone)
    offered: set[tuple[date, str]] = set()
    for _ in range(ROOM_ATTEMPTS):
        candidates = plan_candidates(kind=need.kind, case_id=need.case_id, deadline=need.deadline, now=now,
                                     profile=profile, calendar=calendar, diary=state.diary, preferred_chair=preferred,
                                     exclude=frozenset(offered))
        if not candidates:
            return None
        first = candidates[0]
        if first.attendance_mode == "virtual":
            return Placement(need.conference_id, first.day, first.starts_at.time(), first.chair_id, "virtual")
        same_mode = [c for c in candidates if c.attendance_mode == first.attendance_mode]
        in_time = [c for c in same_mode if c.day <= need.deadline]
        late = [c for c in same_mode if c.day > need.deadline]
        offices = {office.id: office for office in profile.offices}
        rooms = {room.id: room for office in profile.offices for room in office.rooms}
        for group in (in_time, late):
            for office_id in dict.fromkeys(choice.office_id for choice in need.rooms[first.attendance_mode]):
                for candidate in group:
                    if not offices[office_id].open_for(candidate.starts_at, candidate.ends_at, zone):
                        continue
                    for choice in need.rooms[first.attendance_mode]:
                        at = candidate.starts_at.time()
                        if choice.office_id == office_id and rooms[choice.room_id].in_use_on(candidate.day) \
                                and (choice.room_id, candidate.day, at) not in state.rooms:
                            return Placement(need.conference_id, candidate.day, at, candidate.chair_id,
                                             candidate.attendance_mode, office_id, choice.room_id)
        offered |= {(c.day, f"{c.starts_at:%H:%M}") for c in same_mode}
    return None


def absences(state: State, scenario: Scenario, day: date | None) -> list[str]:
    """The chairs' absences entered on `day`: each of their conferences then is covered by another chair at the
    same time where one is free (not a move); the others are returned, to be planned again."""
    uncovered = []
    for away in scenario.absences_announced_on(day):
        current = away.first_day
        while current <= away.last_day:
            state.diary.away.add((away.chair_id, current))
            current += timedelta(days=1)
        affected = sorted((p for p in state.placements.values()
                           if p.chair_id == away.chair_id and away.first_day <= p.day <= away.last_day),
                          key=lambda p: (p.day, p.at))
        for placement in affected:
            kind = "initial"  # cover takes any free chair (no reserve), whatever the kind
            cover = chair_for_session(kind, placement.day, placement.at, state.profile, state.diary,
                                      placement.conference_id, preferred=None)
            if cover is not None:
                state.place(Placement(placement.conference_id, placement.day, placement.at, cover.id,
                                      placement.mode, placement.office_id, placement.room_id))
            else:
                uncovered.append(placement.conference_id)
    return uncovered


@dataclass
class Result:
    planner: str
    requests: list[Request]
    state: State
    measured_from: date
    window_seconds: list[float] = field(default_factory=list)
    windows_replanned: int = 0
    windows_under_pressure: int = 0
    windows_fallen_back: int = 0  # the solver found nothing in time: greedy placed the window

    def figures(self) -> dict[str, float | int | str]:
        """Of the requests that arrived in the period (not the warm-up before it)."""
        measured = [r for r in self.requests if r.arrives.date() >= self.measured_from]
        needs = [r.need for r in measured]
        placed = self.state.placements

        def on_time(kind: str) -> tuple[int, int]:
            of_kind = [n for n in needs if (n.kind == "review") == (kind == "review")]
            return sum(1 for n in of_kind if n.conference_id in placed and placed[n.conference_id].day <= n.deadline), \
                len(of_kind)

        initial_ok, initial_n = on_time("initial")
        review_ok, review_n = on_time("review")
        km = [next(c.km for c in need.rooms[p.mode] if c.room_id == p.room_id)
              for need in needs if (p := placed.get(need.conference_id)) and p.room_id]
        shortened = sum(1 for r in measured if (p := placed.get(r.need.conference_id))
                        and p.day < _usual_first_day(r, self.state.profile))
        per_chair = Counter(p.chair_id for p in placed.values() if p.day >= self.measured_from)
        loads = [per_chair.get(chair.id, 0) for chair in self.state.profile.chairs]
        return {
            "initial conferences": initial_n,
            "initial within 15 working days": f"{initial_ok / initial_n:.1%}" if initial_n else "-",
            "reviews": review_n,
            "reviews on time": f"{review_ok / review_n:.1%}" if review_n else "-",
            "not placed at all": sum(1 for n in needs if n.conference_id not in placed),
            "reports' usual time shortened": shortened,
            "conferences moved": sum(1 for count in self.state.moves.values() if count),
            "mean family travel (km)": f"{statistics.fmean(km):.1f}" if km else "-",
            "chair load spread (stdev)": f"{statistics.pstdev(loads):.2f}",
            "solver time per window (s), mean / max": (
                f"{statistics.fmean(self.window_seconds):.2f} / {max(self.window_seconds):.2f}"
                if self.window_seconds else "-"),
            "windows re-planned with moves": self.windows_replanned if self.planner == "solver" else "-",
            "windows under pressure": self.windows_under_pressure if self.planner == "solver" else "-",
            "windows left to greedy (no answer in time)": self.windows_fallen_back if self.planner == "solver" else "-",
        }


def _usual_first_day(request: Request, profile: Profile) -> date:
    zone = ZoneInfo(profile.timezone)
    policy = profile.policy_on(request.arrives.astimezone(zone).date())
    return earliest_day(request.arrives, policy, profile.calendar(), zone, request.need.kind)


def run_greedy(profile: Profile, scenario: Scenario, requests: list[Request], start: date, days: int) -> Result:
    calendar, zone = profile.calendar(), ZoneInfo(profile.timezone)
    state = State(profile)
    pending = sorted(requests, key=lambda r: r.arrives)
    for index in range(-WARM_UP_DAYS, days + 1):
        day = start + timedelta(days=index)
        morning = datetime.combine(day, time(8), tzinfo=zone)
        uncovered = absences(state, scenario, None) if index == 0 else []  # leave, entered before the period
        for conference_id in uncovered + absences(state, scenario, day):
            need = next(r.need for r in requests if r.need.conference_id == conference_id)
            old = state.unplace(conference_id)
            placement = greedy_place(need, morning, state, calendar, preferred=None)
            if placement:
                state.place(placement, previous=old)
            else:
                state.moves[conference_id] += 1  # off its date, and nowhere to go
        while pending and pending[0].arrives.date() == day:
            request = pending.pop(0)
            placement = greedy_place(request.need, request.arrives, state, calendar)
            if placement:
                state.place(placement)
    return Result("greedy", requests, state, start)


def run_solver(profile: Profile, scenario: Scenario, requests: list[Request], start: date, days: int, *,
               frozen_days: int, max_moves: int, time_limit: float, per_arrival: bool = False) -> Result:
    """`per_arrival`: each request planned as it arrives (those arriving together, together), as the scheduling
    service does; else the day's requests together at 17:00."""
    calendar, zone = profile.calendar(), ZoneInfo(profile.timezone)
    state = State(profile)
    result = Result("solver", requests, state, start)
    needs = {r.need.conference_id: r.need for r in requests}
    arrivals = Counter(r.arrives.date() for r in requests)
    carried: list[str] = []  # unplaced, or uncovered by an absence: planned again in the next window
    for index in range(-WARM_UP_DAYS, days + 1):
        day = start + timedelta(days=index)
        if index == 0:
            carried += absences(state, scenario, None)
        carried += absences(state, scenario, day)
        if not calendar.is_working_day(day) and index < days:
            continue
        evening = datetime.combine(day, time(17), tzinfo=zone)
        moments = sorted({r.arrives for r in requests if r.arrives.date() == day}) if per_arrival else []
        for now in moments or [evening]:
            today = [r.need for r in requests if (r.arrives == now if per_arrival else r.arrives.date() == day)]
            # Those carried must move (their chair is away, or nothing was found): no current place to keep.
            window = today + [needs[c] for c in dict.fromkeys(carried)]
            carried = []
            if window:
                carried += _plan_one_window(window, day, now, state, result, needs, arrivals, profile, calendar,
                                            frozen_days=frozen_days, max_moves=max_moves, time_limit=time_limit)
    return result


def _plan_one_window(window: list[Need], day: date, now: datetime, state: State, result: Result,
                     needs: dict[str, Need], arrivals: Counter[date], profile: Profile, calendar: WorkingDayCalendar,
                     *, frozen_days: int, max_moves: int, time_limit: float) -> list[str]:
    """Plan the window (with moves of conferences already planned when it leaves any late); those left unplaced."""
    weights = Weights()
    if under_pressure(state.diary, recent_arrivals(arrivals, now.astimezone(ZoneInfo(profile.timezone)).date(), calendar),
                      now, profile, calendar):
        weights = weights.under_pressure()
        result.windows_under_pressure += 1
    plan = _solve(window, [], state, now, profile, calendar, max_moves=0, time_limit=time_limit, weights=weights)
    result.window_seconds.append(plan.seconds)
    late = [n for n in window if n.conference_id not in plan.placements
            or plan.placements[n.conference_id].day > n.deadline]
    if late and max_moves:
        # The affected window: conferences already planned, not yet within `frozen_days`, up to the latest
        # deadline of those late (and the days they would be late on).
        frozen_until = calendar.add_working_days(day, frozen_days)
        until = calendar.add_working_days(max(n.deadline for n in late), 5)
        in_window = {n.conference_id for n in window}
        candidates = sorted((p for p in state.placements.values()
                             if frozen_until <= p.day <= until and p.conference_id not in in_window),
                            key=lambda p: (needs[p.conference_id].kind != "review", p.day))
        # Reviews first (the most room before their deadlines), nearest first; a bounded window.
        movable = [_with_current(needs[p.conference_id], state) for p in candidates[:MOVABLE_AT_MOST]]
        if movable:
            result.windows_replanned += 1
            plan = _solve(window, movable, state, now, profile, calendar, max_moves=max_moves,
                          time_limit=time_limit, weights=weights)
            result.window_seconds.append(plan.seconds)
    if plan.status not in ("OPTIMAL", "FEASIBLE"):
        # No answer in the time given: today's planner places the window, one conference at a time.
        result.windows_fallen_back += 1
        for need in window:
            if (placement := greedy_place(need, now, state, calendar)) is not None:
                state.place(placement)
        return []
    for conference_id in plan.unplaced:
        state.unplace(conference_id)
    for placement in plan.placements.values():
        state.place(placement)
    return list(plan.unplaced)


def recent_arrivals(arrivals: Counter[date], today: date, calendar: WorkingDayCalendar) -> list[int]:
    return [arrivals.get(day, 0) for day in recent_working_days(today, calendar)]


def _with_current(need: Need, state: State) -> Need:
    current = state.placements.get(need.conference_id)
    return Need(need.conference_id, need.case_id, need.kind, need.deadline, need.rooms,
                preferred_chair=current.chair_id if current else None, current=current)


def _solve(window: list[Need], movable: list[Need], state: State, now: datetime, profile: Profile,
           calendar: WorkingDayCalendar, *, max_moves: int, time_limit: float, weights: Weights) -> WindowPlan:
    moving = {n.conference_id for n in [*window, *movable]}
    diary = IndexedDiary({(p.chair_id, p.day, p.at) for p in state.placements.values()
                          if p.conference_id not in moving and p.day >= now.date()}, state.diary.away)
    rooms = {(p.room_id, p.day, p.at) for p in state.placements.values()
             if p.conference_id not in moving and p.room_id}
    nearest = [nearest_offices(n) for n in [*window, *movable]]
    load = Counter(p.chair_id for p in state.placements.values() if p.conference_id not in moving)
    # One worker and the solver's own measure of time: the same answer however busy the machine is (the clock's
    # limit stays as a safety net).
    return plan_window(nearest, Occupancy(diary, rooms), now, profile, calendar, weights=weights, max_moves=max_moves,
                       time_limit_seconds=time_limit * 4, deterministic_limit=time_limit, workers=1, chair_load=load)


def bench(profile_name: str, scenario_names: list[str], days: int, seed: int, start: date | None, *,
          frozen_days: int = 5, max_moves: int = 8, time_limit: float = 5.0, per_arrival: bool = False) -> list[tuple[Scenario, Result, Result]]:
    path, default_start = PROFILES[profile_name]
    base = load_profile(REPO / path)
    out = []
    for name in scenario_names:
        scenario = load_scenario(name, start, default_start)
        profile = scenario.apply_to_profile(base)
        first = scenario.start or default_start
        requests = workload_requests(profile, scenario, first - timedelta(days=WARM_UP_DAYS), days + WARM_UP_DAYS, seed)
        greedy = run_greedy(profile, scenario, requests, first, days)
        solver = run_solver(profile, scenario, requests, first, days, frozen_days=frozen_days, max_moves=max_moves,
                            time_limit=time_limit, per_arrival=per_arrival)
        out.append((scenario, greedy, solver))
    return out
