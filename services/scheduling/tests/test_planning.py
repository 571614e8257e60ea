"""Choosing sessions and chairs: deadlines, chairs' diaries, reviews after initial conferences, policy changes."""

from datetime import UTC, date, datetime, time
from pathlib import Path

from cpc_scheduling.domain.planning import ChairDiary, plan_candidates, why_late
from cpc_scheduling.domain.quoracy import is_quorate, quorum_shortfall
from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.contracts.outbound import Invitee
from cpc_shared.profile import load_profile

PROFILES = Path(__file__).resolve().parents[3] / "profiles"
gloucestershire = load_profile(PROFILES / "gloucestershire-2022.yaml")
essex = load_profile(PROFILES / "essex-2020.yaml")
calendar = WorkingDayCalendar()
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def plan(kind="initial", deadline=date(2026, 12, 11), now=MONDAY, profile=gloucestershire, diary=None, preferred=None,
         case_id="CASE-1", **kwargs):
    return plan_candidates(kind=kind, case_id=case_id, deadline=deadline, now=now, profile=profile, calendar=calendar,
                           diary=diary or ChairDiary(), preferred_chair=preferred, **kwargs)


def test_an_initial_conference_gets_the_earliest_sessions_that_leave_time_for_reports():
    candidates = plan()
    # Three working days to write, and reports due 72 hours before: the first day is six working days on.
    assert candidates[0].day == date(2026, 12, 1)
    assert candidates[0].starts_at.astimezone(candidates[0].starts_at.tzinfo).time() == time(9, 30)
    assert all(c.day <= date(2026, 12, 11) for c in candidates)
    assert [c.starts_at for c in candidates] == sorted(c.starts_at for c in candidates)


def test_a_chair_is_never_offered_twice_for_one_session():
    candidates = plan()
    assert len({(c.chair_id, c.session) for c in candidates}) == len(candidates)


def test_the_cases_own_chair_is_kept_when_free():
    assert {c.chair_id for c in plan(preferred="CHAIR-GL-05")} == {"CHAIR-GL-05"}


def test_a_chair_on_leave_or_not_working_that_day_is_not_chosen():
    profile = gloucestershire.model_copy(update={"chairs": [
        gloucestershire.chairs[6],  # works Monday to Wednesday
    ]})
    assert all(c.day.weekday() <= 2 for c in plan(profile=profile))


def test_a_taken_session_is_not_offered_and_the_next_chair_steps_in():
    diary = ChairDiary()
    for chair in gloucestershire.chairs:
        diary.take(chair.id, date(2026, 12, 1), time(9, 30))
    candidates = plan(diary=diary)
    assert candidates[0].session == "2026-12-01|13:30"


def test_reviews_are_held_in_the_window_before_they_are_due_not_straight_away():
    candidates = plan(kind="review", deadline=date(2027, 2, 26))
    assert candidates[0].day >= date(2027, 2, 12)
    assert all(c.day <= date(2027, 2, 26) for c in candidates)


def test_reviews_leave_sessions_free_for_initial_conferences():
    one_chair = gloucestershire.model_copy(update={"chairs": [gloucestershire.chairs[0]]})
    reviews = plan(kind="review", deadline=date(2027, 2, 26), profile=one_chair, limit=10)
    assert len({c.day for c in reviews}) == len(reviews), "at most one review per chair-day"
    initials = plan(profile=one_chair, limit=4)
    assert len({c.day for c in initials}) == 2, "both sessions of a day for initial conferences"


def test_when_no_chair_is_free_before_the_deadline_the_earliest_later_session_is_offered():
    diary = ChairDiary()
    for chair in gloucestershire.chairs:
        for day in range(1, 12):
            for at in gloucestershire.session_starts:
                diary.take(chair.id, date(2026, 12, day), at)
    candidates = plan(diary=diary)
    assert candidates and candidates[0].day == date(2026, 12, 14)
    assert why_late(candidates, date(2026, 12, 11), MONDAY, gloucestershire, calendar) == "no_chair_before_deadline"


def test_a_request_too_close_to_its_deadline_says_so():
    candidates = plan(deadline=date(2026, 11, 26))
    assert why_late(candidates, date(2026, 11, 26), MONDAY, gloucestershire, calendar) == "too_little_time_for_reports"
    assert why_late(candidates, date(2026, 11, 20), MONDAY, gloucestershire, calendar) == "request_after_deadline"


def test_closure_days_before_the_deadline_are_named_as_the_reason():
    closed = WorkingDayCalendar([date(2026, 12, d) for d in range(1, 12)])
    candidates = plan_candidates(kind="initial", case_id="C", deadline=date(2026, 12, 11), now=MONDAY,
                                 profile=gloucestershire, calendar=closed, diary=ChairDiary(), preferred_chair=None)
    assert why_late(candidates, date(2026, 12, 11), MONDAY, gloucestershire, closed) == "closure_days_before_deadline"


def test_the_attendance_mode_follows_the_policy_in_force_on_each_candidate_day():
    # Gloucestershire: initial conferences in person from 16 May 2022, virtual before.
    now = datetime(2022, 5, 5, 9, 0, tzinfo=UTC)
    candidates = plan(now=now, deadline=date(2022, 5, 27), limit=12)
    modes = {c.day: c.attendance_mode for c in candidates}
    assert modes[date(2022, 5, 13)] == "virtual"
    assert modes[date(2022, 5, 16)] == "in_person"


def test_essex_2020_holds_every_conference_virtually():
    now = datetime(2020, 4, 1, 9, 0, tzinfo=UTC)
    for kind in ("initial", "review", "transfer_in", "pre_birth"):
        assert {c.attendance_mode for c in plan(kind=kind, now=now, deadline=date(2020, 6, 30), profile=essex)} == {"virtual"}


def test_quoracy_needs_childrens_social_care_and_two_other_agencies():
    social_worker = Invitee(participant_id="1", role="social_worker", agency="childrens_social_care")
    health = Invitee(participant_id="2", role="professional", agency="health")
    police = Invitee(participant_id="3", role="professional", agency="police")
    parent = Invitee(participant_id="4", role="parent")
    assert is_quorate([social_worker, health, police, parent])
    assert not is_quorate([social_worker, health, parent])
    assert quorum_shortfall([social_worker, health]) == "not invited: 1 more agency"
    assert quorum_shortfall([health, police]) == "not invited: children's social care"
