"""Statutory timescales: by when each kind of conference must be held."""

from __future__ import annotations

import calendar as month_calendar
from datetime import date, timedelta

from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.contracts.inbound import ConferenceRequested

WORKING_DAYS_FOR_INITIAL = 15
WORKING_DAYS_FOR_TRANSFER_IN = 15
FULL_TERM_WEEKS = 40


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day (31 Aug + 3 = 30 Nov)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def statutory_deadline(
    request: ConferenceRequested, calendar: WorkingDayCalendar, pre_birth_by_weeks: int = 28
) -> date:
    """The last day the conference may be held; a deadline on a non-working day moves to the day before."""
    match request.conference_type:
        case "initial":
            return calendar.add_working_days(request.basis_date, WORKING_DAYS_FOR_INITIAL)
        case "transfer_in":
            return calendar.add_working_days(request.basis_date, WORKING_DAYS_FOR_TRANSFER_IN)
        case "review":
            months = 6 if request.previous_conference_type == "review" else 3
            return calendar.on_or_before(add_months(request.basis_date, months))
        case "pre_birth":
            assert request.expected_birth_date is not None  # the contract requires it
            weeks_before_birth = FULL_TERM_WEEKS - pre_birth_by_weeks
            return calendar.on_or_before(request.expected_birth_date - timedelta(weeks=weeks_before_birth))
    raise ValueError(f"no timescale for {request.conference_type}")
