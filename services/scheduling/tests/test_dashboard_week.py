"""The dashboard's rules, without I/O: the fortnight on the service's clock, and why a conference is at risk."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from cpc_scheduling.dashboard.week import Standing, first_monday, risks, this_month
from cpc_scheduling.domain.conference import Conference, ConferenceStatus, Council
from cpc_shared.profile import load_profile

PROFILES = Path(__file__).resolve().parents[3] / "profiles"
TODAY = date(2022, 5, 11)  # a Wednesday


@pytest.fixture(scope="module")
def council() -> Council:
    return Council.of(load_profile(PROFILES / "gloucestershire-2022.yaml"))


def conference(council: Council, status: ConferenceStatus, deadline: date, day: date | None = None,
               late_reason: str | None = None) -> Conference:
    starts = datetime(day.year, day.month, day.day, 9, 30, tzinfo=council.zone) if day else None
    return Conference.model_construct(id="CPC-1", status=status, statutory_deadline=deadline, starts_at=starts,
                                      late_reason=late_reason)


def test_this_week_starts_on_monday_and_the_month_runs_to_its_last_day():
    assert first_monday(TODAY) == date(2022, 5, 9)
    assert first_monday(date(2022, 5, 9)) == date(2022, 5, 9)
    assert this_month(TODAY) == (date(2022, 5, 1), date(2022, 5, 31))
    assert this_month(date(2022, 12, 31)) == (date(2022, 12, 1), date(2022, 12, 31))


def test_a_conference_on_course_is_not_at_risk(council):
    assert risks(conference(council, ConferenceStatus.SCHEDULED, date(2022, 5, 20), date(2022, 5, 18)), TODAY,
                 council, Standing(known=True, reports=(("in", 2), ("awaited", 1)))) == []


def test_planned_after_its_deadline_says_the_reason(council):
    late = conference(council, ConferenceStatus.SCHEDULED, date(2022, 5, 20), date(2022, 5, 24), "no_chair_free")
    assert risks(late, TODAY, council) == ["planned after its deadline (no chair free)"]


def test_no_date_waiting_for_a_room_and_a_deadline_gone_by_are_at_risk(council):
    assert risks(conference(council, ConferenceStatus.UNSCHEDULED, date(2022, 5, 10)), TODAY, council) == [
        "no date yet", "deadline passed, not held"]
    assert risks(conference(council, ConferenceStatus.AWAITING_ROOM, date(2022, 5, 20)), TODAY, council) == [
        "waiting for a room"]


def test_a_missing_report_puts_a_conference_at_risk_and_names_the_agency(council):
    standing = Standing(known=True, reports=(("missing", 1),), missing=("childrens_social_care",))
    assert risks(conference(council, ConferenceStatus.SCHEDULED, date(2022, 5, 20), date(2022, 5, 12)), TODAY,
                 council, standing) == ["reports missing: childrens social care"]


def test_a_conference_held_or_cancelled_is_never_at_risk(council):
    for status in (ConferenceStatus.HELD, ConferenceStatus.CANCELLED):
        assert risks(conference(council, status, date(2022, 5, 2)), TODAY, council) == []
