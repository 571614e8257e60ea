"""The working-day calendar: England and Wales bank holidays, weekends, council closure days."""

from datetime import date, timedelta

from cpc_shared.calendar import WorkingDayCalendar
from hypothesis import given
from hypothesis import strategies as st

calendar = WorkingDayCalendar()
days = st.dates(min_value=date(2019, 1, 1), max_value=date(2035, 12, 31))


def test_christmas_boxing_day_substitute_and_new_year_are_not_working_days():
    assert not calendar.is_working_day(date(2026, 12, 25))
    assert not calendar.is_working_day(date(2026, 12, 28))  # Boxing Day falls on a Saturday; Monday instead
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2026, 12, 29))


def test_easter_good_friday_and_monday_are_not_working_days():
    assert not calendar.is_working_day(date(2027, 3, 26))
    assert not calendar.is_working_day(date(2027, 3, 29))
    assert calendar.is_working_day(date(2027, 3, 25))


def test_fifteen_working_days_across_christmas_and_new_year():
    assert calendar.add_working_days(date(2026, 12, 14), 15) == date(2027, 1, 7)


def test_council_closure_days_are_not_working_days():
    closed = WorkingDayCalendar([date(2026, 12, 29), date(2026, 12, 30)])
    assert not closed.is_working_day(date(2026, 12, 29))
    assert closed.add_working_days(date(2026, 12, 14), 15) == date(2027, 1, 11)


def test_a_deadline_on_a_non_working_day_moves_to_the_working_day_before():
    assert calendar.on_or_before(date(2027, 2, 28)) == date(2027, 2, 26)
    assert calendar.on_or_before(date(2027, 3, 29)) == date(2027, 3, 25)
    assert calendar.on_or_before(date(2027, 3, 24)) == date(2027, 3, 24)


@given(days, st.integers(min_value=0, max_value=300))
def test_adding_working_days_lands_on_a_working_day_that_many_working_days_later(start, count):
    end = calendar.add_working_days(start, count)
    assert end >= start
    assert calendar.working_days_between(start, end) == count
    if count:
        assert calendar.is_working_day(end)


@given(days, st.integers(min_value=0, max_value=100), st.integers(min_value=0, max_value=100))
def test_adding_working_days_composes(start, first, second):
    assert calendar.add_working_days(calendar.add_working_days(start, first), second) == \
        calendar.add_working_days(start, first + second)


@given(days)
def test_on_or_before_is_the_latest_working_day_not_after(day):
    moved = calendar.on_or_before(day)
    assert moved <= day and calendar.is_working_day(moved)
    assert all(not calendar.is_working_day(moved + timedelta(days=n)) for n in range(1, (day - moved).days + 1))


@given(days)
def test_weekends_are_never_working_days(day):
    if day.weekday() >= 5:
        assert not calendar.is_working_day(day)
