"""Statutory timescales for every kind of conference."""

from datetime import date

import pytest
from cpc_scheduling.domain.timescales import Timescale, add_months, next_review, statutory_deadline
from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.profile import Policy, PreBirthRules

calendar = WorkingDayCalendar()
ALL_IN_PERSON = {"initial": "in_person", "review": "in_person", "transfer_in": "in_person", "pre_birth": "in_person"}
TEES = PreBirthRules(conference_by_week_of_pregnancy=28, first_review_within_working_days_of_birth=10)
policy = Policy(effective_from=date(2020, 1, 1), attendance=ALL_IN_PERSON, pre_birth=TEES)


def deadline(kind, basis, **extra):
    return statutory_deadline(Timescale(kind=kind, basis_date=basis, **extra), calendar, extra.pop("policy", policy))


def test_initial_conference_deadline_is_fifteen_working_days_skipping_christmas_and_new_year():
    assert deadline("initial", date(2026, 12, 14)) == date(2027, 1, 7)


def test_initial_conference_deadline_skips_easter():
    # 15 working days from Thu 18 March 2027: Good Friday 26 and Easter Monday 29 March are not counted.
    assert deadline("initial", date(2027, 3, 18)) == date(2027, 4, 12)


def test_transfer_in_deadline_is_fifteen_working_days_from_notification():
    assert deadline("transfer_in", date(2026, 11, 20)) == date(2026, 12, 11)


def test_first_review_is_within_three_months_and_a_weekend_deadline_moves_back_to_friday():
    assert deadline("review", date(2026, 11, 30), previous_kind="initial") == date(2027, 2, 26)


@pytest.mark.parametrize("previous", ["initial", "transfer_in", "pre_birth"])
def test_the_first_review_after_any_first_conference_is_within_three_months(previous):
    assert deadline("review", date(2027, 1, 12), previous_kind=previous) == date(2027, 4, 12)


def test_a_review_after_a_review_is_within_six_months():
    assert deadline("review", date(2026, 8, 31), previous_kind="review") == date(2027, 2, 26)


def test_a_three_month_deadline_on_easter_monday_moves_to_the_thursday_before():
    assert deadline("review", date(2026, 12, 29), previous_kind="initial") == date(2027, 3, 25)


def test_a_three_month_deadline_on_christmas_day_moves_to_christmas_eve():
    assert deadline("review", date(2026, 9, 25), previous_kind="initial") == date(2026, 12, 24)


def test_pre_birth_conference_is_by_the_councils_week_of_pregnancy():
    birth = date(2027, 6, 15)
    assert deadline("pre_birth", date(2026, 11, 20), expected_birth_date=birth) == date(2027, 3, 23)
    sefton = Policy(effective_from=date(2020, 1, 1), attendance=ALL_IN_PERSON,
                    pre_birth=TEES.model_copy(update={"conference_by_week_of_pregnancy": 34}))
    assert statutory_deadline(Timescale("pre_birth", date(2026, 11, 20), expected_birth_date=birth), calendar,
                              sefton) == date(2027, 5, 4)


def test_the_first_review_after_a_pre_birth_conference_is_soon_after_the_birth():
    held, expected = date(2027, 3, 15), date(2027, 6, 15)
    after_birth = next_review("pre_birth", held, birth=expected)
    assert statutory_deadline(after_birth, calendar, policy) == date(2027, 6, 15), "three months came first"
    born_early = next_review("pre_birth", held, birth=date(2027, 5, 20))
    assert statutory_deadline(born_early, calendar, policy) == date(2027, 6, 4), "10 working days, past the bank holiday"
    no_birth_known = next_review("pre_birth", held)
    assert statutory_deadline(no_birth_known, calendar, policy) == date(2027, 6, 15)


def test_every_council_states_its_own_pre_birth_rule():
    with pytest.raises(ValueError, match="pre_birth"):
        Policy(effective_from=date(2020, 1, 1), attendance=ALL_IN_PERSON)


def test_a_reconvened_conference_is_within_the_councils_limit_in_working_days():
    assert deadline("initial", date(2026, 12, 17), reconvened=True) == date(2027, 1, 5)
    strict = Policy(effective_from=date(2020, 1, 1), attendance=ALL_IN_PERSON, pre_birth=TEES,
                    reconvene_within_working_days=5)
    assert statutory_deadline(Timescale("initial", date(2026, 12, 17), reconvened=True), calendar,
                              strict) == date(2026, 12, 24)


def test_the_next_review_follows_from_the_kind_just_held():
    assert next_review("initial", date(2026, 11, 30)) == Timescale("review", date(2026, 11, 30), previous_kind="initial")
    assert deadline("review", date(2027, 2, 25), previous_kind="review") == date(2027, 8, 25)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 8, 31), 3, date(2026, 11, 30)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
    (date(2027, 11, 30), 3, date(2028, 2, 29)),
    (date(2026, 1, 15), 6, date(2026, 7, 15)),
    (date(2026, 10, 31), 6, date(2027, 4, 30)),
])
def test_adding_months_keeps_the_day_or_takes_the_months_last(day, months, expected):
    assert add_months(day, months) == expected
