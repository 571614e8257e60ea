"""Conferences on time, counted as the Children in Need census counts them.

Every conference is counted once, in the period of the day it was held, and is on time when that day is
on or before its statutory deadline (for an initial conference, 15 working days from the strategy
discussion). One that has not been held counts as late in the period of its deadline, once the deadline
has passed: an unscheduled or overdue conference is never left out. A new date after an inquorate
initial conference is counted apart ("reconvened", against its own shorter timescale), not as a second
initial conference. Cancelled conferences that were never held are not counted, nor informal reviews.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

RECONVENED = "reconvened"


@dataclass(frozen=True)
class ConferenceRecord:
    """What the count needs to know of one conference."""

    conference_id: str
    conference_type: str
    statutory_deadline: date
    reconvened: bool = False
    held_on: date | None = None  # the day it was held (the outcome's), or the day booked once that has passed
    cancelled: bool = False
    late_reason: str | None = None

    @property
    def kind(self) -> str:
        return RECONVENED if self.reconvened else self.conference_type


@dataclass(frozen=True)
class Counted:
    record: ConferenceRecord
    on_time: bool

    @property
    def held(self) -> bool:
        return self.record.held_on is not None


def held_on(outcome_held_on: date | None, booked_start: datetime | None, now: datetime, zone: ZoneInfo) -> date | None:
    """The day a conference was held: as its outcome says, else the day it was booked for once it has begun."""
    if outcome_held_on is not None:
        return outcome_held_on
    return booked_start.astimezone(zone).date() if booked_start is not None and booked_start <= now else None


def counted(records: Iterable[ConferenceRecord], first: date, last: date, today: date) -> list[Counted]:
    """The conferences that count for the period `first`..`last` (inclusive), as of `today`."""
    found = []
    for record in records:
        if record.held_on is not None:
            if first <= record.held_on <= last:
                found.append(Counted(record, on_time=record.held_on <= record.statutory_deadline))
        elif not record.cancelled and record.statutory_deadline < today and first <= record.statutory_deadline <= last:
            found.append(Counted(record, on_time=False))
    return found


def by_kind(found: Iterable[Counted]) -> dict[str, dict[str, int]]:
    """Per kind: conferences counted, those within their timescale, and those not held by their deadline."""
    kinds: dict[str, dict[str, int]] = {}
    for one in found:
        figures = kinds.setdefault(one.record.kind, {"conferences": 0, "within_timescale": 0, "not_held": 0})
        figures["conferences"] += 1
        figures["within_timescale"] += one.on_time
        figures["not_held"] += not one.held
    return kinds


def share_within_timescale(figures: dict[str, int] | None) -> float | None:
    return figures["within_timescale"] / figures["conferences"] if figures and figures["conferences"] else None
