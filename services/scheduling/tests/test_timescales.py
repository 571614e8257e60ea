"""Statutory timescales for every kind of conference."""

from datetime import date

import pytest

from cpc_scheduling.domain.timescales import add_months, statutory_deadline
from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.contracts import ConferenceRequested

calendar = WorkingDayCalendar()


def request(conference_type, basis, **extra):
    return ConferenceRequested.model_validate({
        "request_id": "R", "case_id": "C", "conference_type": conference_type, "basis_date": basis.isoformat(),
        "family": {}, "participants": [{"participant_id": "P", "role": "social_worker"}],
        "requested_at": "2026-11-20T15:04:05+00:00", **extra})


def test_initial_conference_deadline_is_fifteen_working_days_skipping_christmas_and_new_year():
    assert statutory_deadline(request("initial", date(2026, 12, 14)), calendar) == date(2027, 1, 7)


def test_transfer_in_deadline_is_fifteen_working_days_from_notification():
    assert statutory_deadline(request("transfer_in", date(2026, 11, 20)), calendar) == date(2026, 12, 11)


def test_first_review_is_within_three_months_and_a_weekend_deadline_moves_back_to_friday():
    first_review = request("review", date(2026, 11, 30), previous_conference_type="initial")
    assert statutory_deadline(first_review, calendar) == date(2027, 2, 26)


def test_a_review_after_a_review_is_within_six_months():
    later = request("review", date(2026, 8, 31), previous_conference_type="review")
    assert statutory_deadline(later, calendar) == date(2027, 2, 26)


def test_a_three_month_deadline_on_easter_monday_moves_to_the_thursday_before():
    assert statutory_deadline(request("review", date(2026, 12, 29), previous_conference_type="initial"),
                              calendar) == date(2027, 3, 25)


def test_pre_birth_conference_is_by_the_councils_week_of_pregnancy():
    pre_birth = request("pre_birth", date(2026, 11, 20), expected_birth_date="2027-06-15")
    assert statutory_deadline(pre_birth, calendar, pre_birth_by_weeks=28) == date(2027, 3, 23)
    assert statutory_deadline(pre_birth, calendar, pre_birth_by_weeks=34) == date(2027, 5, 4)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 8, 31), 3, date(2026, 11, 30)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
    (date(2027, 11, 30), 3, date(2028, 2, 29)),
    (date(2026, 1, 15), 6, date(2026, 7, 15)),
    (date(2026, 10, 31), 6, date(2027, 4, 30)),
])
def test_adding_months_keeps_the_day_or_takes_the_months_last(day, months, expected):
    assert add_months(day, months) == expected
