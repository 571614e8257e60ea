"""Choosing when and with whom: candidate sessions, each with a free chair, best first.

A council's day has fixed sessions (the profile's `session_starts`); a chair holds at most one
conference per session and `max_per_day` a day. Initial conferences go as early as reports allow;
reviews go in the last working days before they are due, and leave `reserve_for_initial_per_chair_day`
sessions free so that initial conferences come first when capacity is short.
"""

from __future__ import annotations

import hashlib
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


@dataclass
class ChairDiary:
    """Which chair sessions are taken (held or booked), as read from the store before planning."""

    taken: set[tuple[str, date, time]] = field(default_factory=set)

    def load(self, chair_id: str, day: date) -> int:
        return sum(1 for chair, taken_day, _ in self.taken if chair == chair_id and taken_day == day)

    def take(self, chair_id: str, day: date, at: time) -> None:
        self.taken.add((chair_id, day, at))


def earliest_day(now: datetime, policy: Policy, calendar: WorkingDayCalendar, zone: ZoneInfo, kind: str = "initial"
                 ) -> date:
    """The first day a conference can sensibly be held: agencies need time to write, and their reports are
    due some time before the conference."""
    rules = policy.reports
    days_for_reports = rules.preparation_working_days + max(
        rules.partners.lead_working_days(kind), (rules.social_worker or rules.partners).lead_working_days(kind))
    return calendar.add_working_days(now.astimezone(zone).date(), max(days_for_reports, 1))


def first_day_to_try(kind: str, deadline: date, earliest: date, policy: Policy, calendar: WorkingDayCalendar) -> date:
    if kind != "review":
        return earliest
    window_opens = deadline
    for _ in range(policy.review_window_working_days):
        window_opens = calendar.on_or_before(window_opens - timedelta(days=1))
    return max(earliest, window_opens)


def chair_for_session(
    kind: str, day: date, at: time, profile: Profile, diary: ChairDiary, case_id: str, preferred: str | None
) -> Chair | None:
    """A free chair for this session: the case's own chair where possible, else the least loaded that day."""
    sessions_a_day = len(profile.session_starts)

    def free(chair: Chair) -> bool:
        if not chair.available_on(day) or (chair.id, day, at) in diary.taken:
            return False
        capacity = min(chair.max_per_day, sessions_a_day)
        if kind == "review":  # keep sessions back for initial conferences
            capacity -= profile.reserve_for_initial_per_chair_day
        return diary.load(chair.id, day) < capacity

    if preferred and (chair := profile.chair(preferred)) and free(chair):
        return chair
    available = [chair for chair in profile.chairs if free(chair)]
    if not available:
        return None
    return min(available, key=lambda c: (diary.load(c.id, day), _stable(case_id, c.id)))


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
    start_after: date | None = None,
    limit: int = CANDIDATES,
) -> list[Candidate]:
    """Up to `limit` sessions with a free chair, in date order; past the deadline only if nothing fits."""
    zone = ZoneInfo(profile.timezone)
    today_policy = profile.policy_on(now.astimezone(zone).date())
    earliest = earliest_day(now, today_policy, calendar, zone, kind)
    day = first_day_to_try(kind, deadline, earliest, today_policy, calendar)
    if start_after and day <= start_after:
        day = calendar.add_working_days(start_after, 1)
    day = calendar.on_or_after(day)
    last_day = calendar.add_working_days(max(deadline, day), LATE_HORIZON_WORKING_DAYS)
    length = timedelta(minutes=profile.conference_minutes[kind])  # type: ignore[index]
    candidates: list[Candidate] = []
    while day <= last_day and len(candidates) < limit:
        mode = profile.policy_on(day).attendance[kind]  # type: ignore[index]
        for at in profile.session_starts:
            chair = chair_for_session(kind, day, at, profile, diary, case_id, preferred_chair)
            if chair is None:
                continue
            starts = datetime.combine(day, at, tzinfo=zone)
            candidates.append(Candidate(starts, starts + length, chair.id, f"{day.isoformat()}|{at:%H:%M}", mode))
            diary.take(chair.id, day, at)  # one candidate per chair-session
            if len(candidates) == limit:
                break
        day = calendar.add_working_days(day, 1)
    return candidates


def why_late(candidates: list[Candidate], deadline: date, now: datetime, profile: Profile,
             calendar: WorkingDayCalendar) -> str | None:
    """Why the conference cannot be held by its deadline (a reason code), or None if it can."""
    if candidates and candidates[0].day <= deadline:
        return None
    zone = ZoneInfo(profile.timezone)
    today = now.astimezone(zone).date()
    if deadline < today:
        return "request_after_deadline"
    if calendar.closure_days_between(today, deadline):
        return "closure_days_before_deadline"
    if earliest_day(now, profile.policy_on(today), calendar, zone) > deadline:
        return "too_little_time_for_reports"
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
