"""Choosing sessions and chairs: deadlines, chairs' diaries, reviews after initial conferences, policy changes."""

from datetime import UTC, date, datetime, time
from pathlib import Path

from cpc_scheduling.domain.planning import ChairDiary, plan_candidates, why_late
from cpc_scheduling.domain.quoracy import is_quorate, quorum_shortfall
from cpc_scheduling.domain.timescales import Timescale, statutory_deadline
from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.contracts.outbound import Invitee
from cpc_shared.profile import load_profile

PROFILES = Path(__file__).resolve().parents[3] / "profiles"
gloucestershire = load_profile(PROFILES / "gloucestershire-2022.yaml")
essex = load_profile(PROFILES / "essex-2020.yaml")
calendar = WorkingDayCalendar()
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def plan(kind="initial", deadline=date(2026, 12, 11), now=MONDAY, profile=gloucestershire, diary=None, preferred=None,
         case_id="CASE-1", calendar=calendar, **kwargs):
    return plan_candidates(kind=kind, case_id=case_id, deadline=deadline, now=now, profile=profile, calendar=calendar,
                           diary=diary or ChairDiary(), preferred_chair=preferred, **kwargs)


def late_reason(kind="initial", deadline=date(2026, 12, 11), now=MONDAY, profile=gloucestershire, diary=None,
                calendar=calendar):
    """Why a conference planned with these would be late (None when it would not)."""
    diary = diary or ChairDiary()
    candidates = plan(kind=kind, deadline=deadline, now=now, profile=profile, diary=diary, calendar=calendar)
    return why_late(kind=kind, case_id="CASE-1", deadline=deadline, now=now, profile=profile, calendar=calendar,
                    diary=diary, preferred_chair=None, candidates=candidates)


def every_session_taken(diary: ChairDiary, first: date, last: date, sessions=None, profile=gloucestershire) -> ChairDiary:
    day = first
    while day <= last:
        for chair in profile.chairs:
            for at in sessions or profile.session_starts:
                diary.take(chair.id, day, at)
        day = date.fromordinal(day.toordinal() + 1)
    return diary


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


def test_the_cases_own_chair_comes_first_even_when_others_are_free_earlier():
    monday_to_wednesday = "CHAIR-GL-07"
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # a Thursday: the first day to try is Friday 4 December
    candidates = plan(deadline=date(2026, 12, 11), now=now, preferred=monday_to_wednesday)
    assert candidates[0].chair_id == monday_to_wednesday
    assert [c.day for c in candidates if c.chair_id != monday_to_wednesday][0] < candidates[0].day


def test_a_chair_away_that_day_is_not_chosen():
    diary = ChairDiary(away={(chair.id, date(2026, 12, 1)) for chair in gloucestershire.chairs[:-1]})
    candidates = plan(diary=diary)
    assert {c.chair_id for c in candidates if c.day == date(2026, 12, 1)} == {gloucestershire.chairs[-1].id}


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
    diary = every_session_taken(ChairDiary(), date(2026, 11, 24), date(2026, 12, 11))
    candidates = plan(diary=diary)
    assert candidates and candidates[0].day == date(2026, 12, 14)
    assert late_reason(diary=diary) == "no_chair_before_deadline"


def test_the_deadline_beats_the_time_agencies_usually_have_for_reports():
    # Strategy discussion 3 May 2022, requested 17 May: the deadline is 24 May. Reports would want the
    # conference no sooner than 25 May; the law wants it by 24 May, and chairs are free.
    deadline = statutory_deadline(Timescale("initial", date(2022, 5, 3)), calendar, gloucestershire.policy_on(date(2022, 5, 3)))
    assert deadline == date(2022, 5, 24)
    now = datetime(2022, 5, 17, 9, 0, tzinfo=UTC)
    candidates = plan(deadline=deadline, now=now)
    assert candidates[0].day == date(2022, 5, 24), "the deadline day itself: the most time the law leaves for reports"
    assert [c.day for c in candidates[:6]] == [date(2022, 5, 24)] * 2 + [date(2022, 5, 23)] * 2 + [date(2022, 5, 20)] * 2
    assert late_reason(deadline=deadline, now=now) is None


def test_a_review_due_soon_is_held_by_its_due_date_not_after_it():
    now = datetime(2022, 7, 1, 9, 0, tzinfo=UTC)
    candidates = plan(kind="review", deadline=date(2022, 7, 7), now=now)
    assert candidates[0].day == date(2022, 7, 7)
    in_time = [c.day <= date(2022, 7, 7) for c in candidates]
    assert in_time == sorted(in_time, reverse=True), "every session in time is offered before any late one"
    assert late_reason(kind="review", deadline=date(2022, 7, 7), now=now) is None


def test_a_review_takes_a_session_kept_for_initial_conferences_rather_than_be_late():
    # Every chair's morning is taken from August to October; every afternoon is free.
    diary = every_session_taken(ChairDiary(), date(2022, 8, 1), date(2022, 10, 31), sessions=[time(9, 30)])
    now = datetime(2022, 8, 10, 9, 0, tzinfo=UTC)
    candidates = plan(kind="review", deadline=date(2022, 9, 1), now=now, diary=diary)
    assert candidates[0].day <= date(2022, 9, 1) and candidates[0].session.endswith("13:30")
    assert late_reason(kind="review", deadline=date(2022, 9, 1), now=now, diary=diary) is None


def test_a_review_still_leaves_the_reserve_free_when_it_can_be_on_time_without_it():
    diary = every_session_taken(ChairDiary(), date(2022, 8, 1), date(2022, 8, 26), sessions=[time(9, 30)])
    now = datetime(2022, 8, 10, 9, 0, tzinfo=UTC)
    candidates = plan(kind="review", deadline=date(2022, 9, 1), now=now, diary=diary)
    assert all(c.day >= date(2022, 8, 30) for c in candidates[:4]), "days with both sessions free come first"


def test_a_request_with_no_time_left_to_invite_anyone_says_so():
    # Monday 23 November: a deadline on Thursday is still met (the reports' window is shortened) ...
    assert plan(deadline=date(2026, 11, 26))[0].day == date(2026, 11, 26)
    assert late_reason(deadline=date(2026, 11, 26)) is None
    # ... one on the day of the request leaves no notice at all, and one already past is past.
    assert late_reason(deadline=date(2026, 11, 23)) == "too_little_notice"
    assert late_reason(deadline=date(2026, 11, 20)) == "request_after_deadline"


def test_closure_days_are_the_reason_only_when_the_chairs_were_free_on_them():
    closed_until_deadline = WorkingDayCalendar([date(2026, 11, d) for d in range(24, 31)]
                                               + [date(2026, 12, d) for d in range(1, 12)])
    assert late_reason(calendar=closed_until_deadline) == "closure_days_before_deadline"
    # One closure day, and every chair busy until the deadline anyway: the chairs are the reason.
    one_day_closed = WorkingDayCalendar([date(2026, 12, 2)])
    busy = every_session_taken(ChairDiary(), date(2026, 11, 24), date(2026, 12, 11))
    assert late_reason(calendar=one_day_closed, diary=busy) == "no_chair_before_deadline"


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
