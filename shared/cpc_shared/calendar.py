"""Working days in England: Monday to Friday, less England and Wales bank holidays and council closure days."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import holidays


class WorkingDayCalendar:
    def __init__(self, closure_days: Iterable[date] = ()) -> None:
        # England and Wales share one set of bank holidays; `holidays` fills in years on demand.
        self._bank_holidays = holidays.country_holidays("GB", subdiv="ENG")
        self._closure_days = frozenset(closure_days)

    def without_closure_days(self) -> WorkingDayCalendar:
        """The same calendar as if the council never closed (to tell whether closures made something late)."""
        return WorkingDayCalendar()

    def is_bank_holiday(self, day: date) -> bool:
        return day in self._bank_holidays

    def closure_days_between(self, start: date, end: date) -> list[date]:
        """Council closure days (not bank holidays or weekends) from `start` to `end` inclusive."""
        return sorted(day for day in self._closure_days if start <= day <= end and day.weekday() < 5)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._closure_days and not self.is_bank_holiday(day)

    def add_working_days(self, start: date, count: int) -> date:
        """The date `count` working days after `start` (`start` itself is day 0, whatever it is)."""
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        remaining = count
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def on_or_before(self, day: date) -> date:
        """A deadline on a non-working day moves to the working day before it."""
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def on_or_after(self, day: date) -> date:
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when `end` <= `start`)."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count
