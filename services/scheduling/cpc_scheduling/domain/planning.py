"""Choosing when and with whom: candidate slots before the deadline, and the chair."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.contracts.inbound import ConferenceRequested, Family
from cpc_shared.contracts.outbound import FamilyArea, Slot
from cpc_shared.profile import WEEKDAYS, Chair, Profile

# Reports need time to arrive: the earliest slot leaves this many working days after the request.
LEAD_WORKING_DAYS = 3
CANDIDATES = 8


def choose_chair(case_id: str, chairs: list[Chair], day: date) -> Chair:
    """The same chair for a case whenever possible (a stable choice by case), among those working that day."""
    working = [chair for chair in chairs if WEEKDAYS[day.weekday()] in chair.working_days] or chairs
    digest = int(hashlib.sha256(case_id.encode()).hexdigest(), 16)
    return working[digest % len(working)]


def candidate_slots(
    request: ConferenceRequested, deadline: date, now: datetime, profile: Profile, calendar: WorkingDayCalendar
) -> list[Slot]:
    """Working-day slots from the earliest sensible day, morning and afternoon, best first."""
    zone = ZoneInfo(profile.timezone)
    today = now.astimezone(zone).date()
    earliest = calendar.add_working_days(today, LEAD_WORKING_DAYS)
    if earliest > deadline:  # late already: hold it as soon as possible
        earliest = calendar.add_working_days(today, 1)
    length = timedelta(minutes=profile.conference_minutes[request.conference_type])
    start, end = profile.working_hours.start, profile.working_hours.end
    afternoon = (datetime.combine(today, end) - length).time()
    slots: list[Slot] = []
    day = calendar.on_or_after(earliest)
    while len(slots) < CANDIDATES:
        for at in (start, afternoon):
            begins = datetime.combine(day, at, tzinfo=zone)
            slots.append(Slot(starts_at=begins, ends_at=begins + length))
        day = calendar.add_working_days(day, 1)
    return slots[:CANDIDATES]


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
