"""Choosing when and with whom: candidate sessions, each with a free chair, best first.

A council's day has fixed sessions (the profile's `session_starts`); a chair holds at most one
conference per session and `max_per_day` a day. The statutory deadline is the law and comes first:

- Initial conferences go as early as the agencies' reports allow; reviews go in the last working
  days before they are due. Both then take any free session up to the deadline.
- When that leaves no session in time, a day before it is offered: the reports' window is shortened
  (the reports service tells agencies), never the deadline missed for it. A conference needs the
  policy's `minimum_notice_working_days` for its invitations, whatever else.
- The case's own chair (a review's, a reconvened conference's) is offered first wherever they are free
  in time; then other chairs.
- Reviews leave `reserve_for_initial_per_chair_day` sessions free so that initial conferences come
  first when capacity is short, but never when that would make the review itself late.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.contracts.inbound import Family
from cpc_shared.contracts.outbound import AttendanceMode, FamilyArea
from cpc_shared.profile import Chair, Policy, Profile

CANDIDATES = 12  # six working days of sessions: room for the nearest office to have one free in time
# How far past the deadline to look when nothing fits before it (the conference is then late, and says so).
LATE_HORIZON_WORKING_DAYS = 30


@dataclass(frozen=True)
class Candidate:
    starts_at: datetime
    ends_at: datetime
    chair_id: str
    session: str  # "<day>|<HH:MM>", the chair's session this candidate takes
    attendance_mode: AttendanceMode

    @property
    def day(self) -> date:
        return date.fromisoformat(self.session.split("|")[0])

    @property
    def key(self) -> str:
        """The chair's session it takes, as the store names it: "<chair>|<day>|<HH:MM>"."""
        return f"{self.chair_id}|{self.session}"


@dataclass
class ChairDiary:
    """Which chair sessions are taken (held or booked), and which chairs are away on which days (leave or
    sickness entered by the team), as read from the store before planning; with them, the rooms booked for those
    sessions (room id, day, start), which the solver weighs."""

    taken: set[tuple[str, date, time]] = field(default_factory=set)
    away: set[tuple[str, date]] = field(default_factory=set)
    rooms: set[tuple[str, date, time]] = field(default_factory=set)

    def is_away(self, chair_id: str, day: date) -> bool:
        return (chair_id, day) in self.away

    def load(self, chair_id: str, day: date) -> int:
        return sum(1 for chair, taken_day, _ in self.taken if chair == chair_id and taken_day == day)

    def take(self, chair_id: str, day: date, at: time) -> None:
        self.taken.add((chair_id, day, at))

    def copy(self) -> ChairDiary:
        return ChairDiary(set(self.taken), set(self.away), set(self.rooms))


def first_day_for_invitations(now: datetime, policy: Policy, calendar: WorkingDayCalendar, zone: ZoneInfo) -> date:
    """The first day a conference can be held at all: everyone invited needs notice."""
    return calendar.add_working_days(now.astimezone(zone).date(), policy.minimum_notice_working_days)


def earliest_day(now: datetime, policy: Policy, calendar: WorkingDayCalendar, zone: ZoneInfo, kind: str) -> date:
    """The first day that leaves agencies their usual time: days to write, and reports due some time before
    the conference under the rule for this kind of conference."""
    rules = policy.reports
    days_for_reports = rules.preparation_working_days + max(
        rules.partners.lead_working_days(kind), (rules.social_worker or rules.partners).lead_working_days(kind))
    return max(calendar.add_working_days(now.astimezone(zone).date(), days_for_reports),
               first_day_for_invitations(now, policy, calendar, zone))


def first_day_to_try(kind: str, deadline: date, earliest: date, policy: Policy, calendar: WorkingDayCalendar) -> date:
    if kind != "review":
        return earliest
    window_opens = deadline
    for _ in range(policy.review_window_working_days):
        window_opens = calendar.on_or_before(window_opens - timedelta(days=1))
    return max(earliest, window_opens)


def chair_for_session(
    kind: str, day: date, at: time, profile: Profile, diary: ChairDiary, case_id: str, preferred: str | None,
    reserve: int = 0,
) -> Chair | None:
    """A free chair for this session: the case's own chair where possible, else the least loaded that day.
    A review leaves `reserve` of a chair's sessions that day free for initial conferences."""
    sessions_a_day = len(profile.session_starts)

    def free(chair: Chair) -> bool:
        if not chair.available_on(day) or diary.is_away(chair.id, day) or (chair.id, day, at) in diary.taken:
            return False
        capacity = min(chair.max_per_day, sessions_a_day)
        if kind == "review":
            capacity -= reserve
        return diary.load(chair.id, day) < capacity

    if preferred and (chair := profile.chair(preferred)) and free(chair):
        return chair
    available = [chair for chair in profile.chairs if free(chair)]
    if not available:
        return None
    return min(available, key=lambda c: (diary.load(c.id, day), _stable(case_id, c.id)))


def days_in_order_of_preference(first: date, deadline: date, notice: date, calendar: WorkingDayCalendar
                                ) -> Iterator[date]:
    """From the preferred first day up to the deadline; then earlier days, latest first (the most time
    for reports); then, only if nothing else fits, the days after the deadline."""
    start = max(notice, calendar.on_or_before(min(first, deadline)))
    day = start
    while day <= deadline:
        yield day
        day = calendar.add_working_days(day, 1)
    day = calendar.on_or_before(start - timedelta(days=1))
    while day >= notice:
        yield day
        day = calendar.on_or_before(day - timedelta(days=1))
    day = calendar.add_working_days(max(deadline, start - timedelta(days=1)), 1)
    last_day = calendar.add_working_days(max(deadline, start), LATE_HORIZON_WORKING_DAYS)
    while day <= last_day:
        yield day
        day = calendar.add_working_days(day, 1)


def plan_candidates(
    *,
    kind: str,
    case_id: str,
    deadline: date,
    now: datetime,
    profile: Profile,
    calendar: WorkingDayCalendar,
    diary: ChairDiary,
    preferred_chair: str | None,
    exclude: frozenset[tuple[date, str]] = frozenset(),
    limit: int = CANDIDATES,
) -> list[Candidate]:
    """Up to `limit` sessions with a free chair, best first: those by the deadline, then later ones.
    `exclude` names sessions (day, "HH:MM") already offered to rooms without success."""
    in_reserve = _plan(kind, case_id, deadline, now, profile, calendar, diary.copy(), preferred_chair, exclude, limit,
                       reserve=profile.reserve_for_initial_per_chair_day)
    if kind != "review" or not profile.reserve_for_initial_per_chair_day or _in_time(in_reserve, deadline):
        return in_reserve
    # The reserve would make this review late: it takes a session kept for initial conferences instead.
    return _plan(kind, case_id, deadline, now, profile, calendar, diary.copy(), preferred_chair, exclude, limit,
                 reserve=0)


def _plan(kind: str, case_id: str, deadline: date, now: datetime, profile: Profile, calendar: WorkingDayCalendar,
          diary: ChairDiary, preferred_chair: str | None, exclude: frozenset[tuple[date, str]], limit: int,
          reserve: int) -> list[Candidate]:
    zone = ZoneInfo(profile.timezone)
    today_policy = profile.policy_on(now.astimezone(zone).date())
    first = first_day_to_try(kind, deadline, earliest_day(now, today_policy, calendar, zone, kind), today_policy,
                             calendar)
    notice = first_day_for_invitations(now, today_policy, calendar, zone)
    length = timedelta(minutes=profile.conference_minutes[kind])  # type: ignore[index]
    in_time: list[Candidate] = []
    late: list[Candidate] = []
    for day in days_in_order_of_preference(first, deadline, notice, calendar):
        chosen = in_time if day <= deadline else late
        if len(in_time) >= limit or (chosen is late and len(in_time) + len(late) >= limit):
            break
        mode = profile.policy_on(day).attendance[kind]  # type: ignore[index]
        for at in profile.session_starts:
            if (day, f"{at:%H:%M}") in exclude:
                continue
            chair = chair_for_session(kind, day, at, profile, diary, case_id, preferred_chair, reserve)
            if chair is None:
                continue
            starts = datetime.combine(day, at, tzinfo=zone)
            chosen.append(Candidate(starts, starts + length, chair.id, f"{day.isoformat()}|{at:%H:%M}", mode))
            diary.take(chair.id, day, at)  # one candidate per chair-session
    # The case's own chair where possible: their sessions in time come first, then the others in order.
    in_time.sort(key=lambda candidate: candidate.chair_id != preferred_chair)
    return (in_time + late)[:limit]


def _in_time(candidates: list[Candidate], deadline: date) -> bool:
    return bool(candidates) and candidates[0].day <= deadline


def why_late(*, kind: str, case_id: str, deadline: date, now: datetime, profile: Profile,
             calendar: WorkingDayCalendar, diary: ChairDiary, preferred_chair: str | None,
             candidates: list[Candidate]) -> str | None:
    """Why the conference cannot be held by its deadline (a reason code), or None if it can.

    Closure days are the reason only when the chairs were free on them: planned as if the council were
    open, the conference would have been in time."""
    if _in_time(candidates, deadline):
        return None
    zone = ZoneInfo(profile.timezone)
    today = now.astimezone(zone).date()
    if deadline < today:
        return "request_after_deadline"
    if calendar.closure_days_between(today, deadline):
        as_if_open = plan_candidates(kind=kind, case_id=case_id, deadline=deadline, now=now, profile=profile,
                                     calendar=calendar.without_closure_days(), diary=diary,
                                     preferred_chair=preferred_chair)
        if _in_time(as_if_open, deadline):
            return "closure_days_before_deadline"
    if deadline < first_day_for_invitations(now, profile.policy_on(today), calendar, zone):
        return "too_little_notice"
    return "no_chair_before_deadline"


def _stable(case_id: str, chair_id: str) -> int:
    return int(hashlib.sha256(f"{case_id}|{chair_id}".encode()).hexdigest()[:8], 16)


def family_area(family: Family) -> FamilyArea:
    """Enough to find the nearest office, and no more: postcode district, location to about a kilometre."""
    district = family.postcode.strip().upper().split()[0] if family.postcode and family.postcode.strip() else None
    if family.location is None:
        return FamilyArea(postcode_district=district)
    return FamilyArea(postcode_district=district, lat=round(family.location.lat, 2), lon=round(family.location.lon, 2))


STEP_FREE_NEEDS = frozenset({"step_free_access", "step_free", "wheelchair", "wheelchair_user", "mobility"})
HEARING_LOOP_NEEDS = frozenset({"hearing_loop", "hearing_impaired", "deaf", "hard_of_hearing"})


def needs_step_free(needs: list[str]) -> bool:
    return any(need.strip().lower() in STEP_FREE_NEEDS for need in needs)


def needs_hearing_loop(needs: list[str]) -> bool:
    return any(need.strip().lower() in HEARING_LOOP_NEEDS for need in needs)
