"""Counting conferences on time as the Children in Need census does."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from cpc_scheduling.domain.census import ConferenceRecord, by_kind, counted, held_on

LONDON = ZoneInfo("Europe/London")
MAY_1, MAY_31, JUNE_10 = date(2022, 5, 1), date(2022, 5, 31), date(2022, 6, 10)


def record(conference_id: str, deadline: date, held: date | None = None, kind: str = "initial", **kwargs
           ) -> ConferenceRecord:
    return ConferenceRecord(conference_id, kind, deadline, held_on=held, **kwargs)


def test_a_conference_is_judged_by_the_day_it_was_held_not_the_day_first_booked():
    booked_in_time_held_late = record("A", date(2022, 5, 20), held=date(2022, 5, 23))
    found = counted([booked_in_time_held_late], MAY_1, MAY_31, JUNE_10)
    assert [(c.record.conference_id, c.on_time) for c in found] == [("A", False)]


def test_a_conference_never_scheduled_counts_as_late_once_its_deadline_has_passed():
    unscheduled = record("U", date(2022, 5, 24))
    assert by_kind(counted([unscheduled], MAY_1, MAY_31, date(2022, 5, 24))) == {}, "its deadline is today: not yet"
    assert by_kind(counted([unscheduled], MAY_1, MAY_31, date(2022, 5, 25))) == {
        "initial": {"conferences": 1, "within_timescale": 0, "not_held": 1}}
    assert counted([unscheduled], date(2022, 6, 1), date(2022, 6, 30), JUNE_10) == [], "counted in its deadline's period"


def test_a_reconvened_conference_is_counted_apart_from_initial_conferences():
    first = record("I", date(2022, 5, 20), held=date(2022, 5, 18))
    reconvened = record("R", date(2022, 6, 1), held=date(2022, 5, 30), reconvened=True)
    assert by_kind(counted([first, reconvened], MAY_1, MAY_31, JUNE_10)) == {
        "initial": {"conferences": 1, "within_timescale": 1, "not_held": 0},
        "reconvened": {"conferences": 1, "within_timescale": 1, "not_held": 0}}


def test_cancelled_conferences_that_were_never_held_are_not_counted_but_held_ones_are():
    cancelled = record("C", date(2022, 5, 10), cancelled=True)
    held = record("H", date(2022, 5, 10), held=date(2022, 5, 9), kind="review")
    assert [c.record.conference_id for c in counted([cancelled, held], MAY_1, MAY_31, JUNE_10)] == ["H"]


def test_a_booked_conference_counts_as_held_on_its_day_once_it_has_begun_until_its_outcome_says_otherwise():
    starts = datetime(2022, 5, 24, 9, 30, tzinfo=LONDON)
    assert held_on(None, starts, datetime(2022, 5, 24, 9, 0, tzinfo=LONDON), LONDON) is None
    assert held_on(None, starts, datetime(2022, 5, 24, 10, 0, tzinfo=LONDON), LONDON) == date(2022, 5, 24)
    assert held_on(date(2022, 5, 26), starts, datetime(2022, 6, 1, tzinfo=LONDON), LONDON) == date(2022, 5, 26)
