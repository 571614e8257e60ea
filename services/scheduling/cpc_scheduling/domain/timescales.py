"""Statutory timescales: by when each kind of conference must be held (docs/domain.md)."""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass
from datetime import date, timedelta

from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.profile import Policy

WORKING_DAYS_FOR_INITIAL = 15
WORKING_DAYS_FOR_TRANSFER_IN = 15
FULL_TERM_WEEKS = 40


@dataclass(frozen=True)
class Timescale:
    """What the deadline of one conference runs from."""

    kind: str  # initial | review | transfer_in | pre_birth
    basis_date: date
    previous_kind: str | None = None  # reviews: the kind of the conference before
    expected_birth_date: date | None = None  # pre-birth, and the first review after it
    reconvened: bool = False  # a new date after an inquorate conference


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day (31 Aug + 3 = 30 Nov)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def statutory_deadline(timescale: Timescale, calendar: WorkingDayCalendar, policy: Policy) -> date:
    """The last day the conference may be held; a deadline on a non-working day moves to the day before.

    `policy` is the council's policy in force on the basis date (local rules: pre-birth, reconvening)."""
    if timescale.reconvened:
        return calendar.add_working_days(timescale.basis_date, policy.reconvene_within_working_days)
    match timescale.kind:
        case "initial":
            return calendar.add_working_days(timescale.basis_date, WORKING_DAYS_FOR_INITIAL)
        case "transfer_in":
            return calendar.add_working_days(timescale.basis_date, WORKING_DAYS_FOR_TRANSFER_IN)
        case "review":
            months = 6 if timescale.previous_kind == "review" else 3
            by_months = calendar.on_or_before(add_months(timescale.basis_date, months))
            if timescale.previous_kind == "pre_birth" and timescale.expected_birth_date is not None:
                # The first review after a pre-birth conference: soon after the birth (the council's rule).
                after_birth = calendar.add_working_days(
                    calendar.on_or_before(timescale.expected_birth_date),
                    policy.pre_birth.first_review_within_working_days_of_birth)
                return max(min(by_months, after_birth), timescale.basis_date)
            return by_months
        case "pre_birth":
            if timescale.expected_birth_date is None:
                raise ValueError("a pre-birth conference needs the expected birth date")
            weeks_before_birth = FULL_TERM_WEEKS - policy.pre_birth.conference_by_week_of_pregnancy
            return calendar.on_or_before(timescale.expected_birth_date - timedelta(weeks=weeks_before_birth))
    raise ValueError(f"no timescale for {timescale.kind}")


def next_review(held_kind: str, held_on: date, birth: date | None = None) -> Timescale:
    """After a conference that starts or continues a plan: 3 months after the first, 6 after a review; after a
    pre-birth conference, soon after the birth (`birth`: the day recorded, else the day expected)."""
    return Timescale(kind="review", basis_date=held_on, previous_kind=held_kind,
                     expected_birth_date=birth if held_kind == "pre_birth" else None)
