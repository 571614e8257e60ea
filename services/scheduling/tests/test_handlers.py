"""The scheduling service layer on in-memory fakes: what each event does to a conference, and what is published."""

from __future__ import annotations

import asyncio
import threading
import time as time_module
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from cpc_scheduling import handlers, solving
from cpc_scheduling.domain.conference import Conference, ConferenceStatus, Council, NewConference
from cpc_scheduling.domain.planning import Candidate, ChairDiary, earliest_day, first_day_for_invitations
from cpc_scheduling.domain.solver import plan_window
from cpc_scheduling.domain.tasks import TeamTask
from cpc_scheduling.domain.timescales import Timescale
from cpc_scheduling.handlers import Scheduling
from cpc_scheduling.team_tasks import TeamTasks
from cpc_shared.clock import FixedClock
from cpc_shared.consumer import Rejected
from cpc_shared.contracts.inbound import (
    CaseDetailsChanged,
    ConferenceCancellationRequested,
    ConferenceOutcomeRecorded,
    ConferenceRequested,
)
from cpc_shared.contracts.outbound import FamilyArea, Invitee, RoomBooked, RoomRequested, RoomUnavailable, Slot
from cpc_shared.fakes import InMemoryStore, RecordingRelay
from cpc_shared.profile import load_profile
from cpc_shared.repository import Repository
from cpc_stack import casemgmt

PROFILES = Path(__file__).resolve().parents[3] / "profiles"


class InMemoryCases:
    def __init__(self) -> None:
        self.ids: dict[str, list[str]] = {}
        self.births: dict[str, date] = {}

    async def add(self, case_id: str, conference_id: str) -> None:
        if conference_id not in self.ids.setdefault(case_id, []):
            self.ids[case_id].append(conference_id)

    async def record_birth(self, case_id: str, born_on: date) -> None:
        self.births[case_id] = born_on

    async def born_on(self, case_id: str) -> date | None:
        return self.births.get(case_id)

    async def conference_ids(self, case_id: str) -> list[str]:
        return list(self.ids.get(case_id, []))


class InMemoryChairSessions:
    """A chair's session is held by one conference at a time, as in the store."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}

    async def diary(self, first: date, last: date) -> ChairDiary:
        diary = ChairDiary()
        for s in self.sessions.values():
            day, at = date.fromisoformat(s["day"]), time.fromisoformat(s["at"])
            diary.take(s["chair_id"], day, at)
            if s.get("room_id"):
                diary.rooms.add((s["room_id"], day, at))
        return diary

    async def is_away(self, chair_id: str, day: date) -> bool:
        return False

    async def hold(self, conference_id: str, candidates: list[Candidate], now: datetime, *, booked: bool = False
                   ) -> list[Candidate]:
        ours = []
        for c in candidates:
            key = c.key
            holder = self.sessions.setdefault(key, {"chair_id": c.chair_id, "day": c.session.split("|")[0],
                                                    "at": c.session.split("|")[1], "conference_id": conference_id,
                                                    "state": "booked" if booked else "held"})
            if holder["conference_id"] == conference_id:
                ours.append(c)
        return ours

    async def book(self, conference_id: str, chair_id: str, session: str, room_id: str | None = None,
                   others: Iterable[str] = ()) -> bool:
        key = f"{chair_id}|{session}"
        booked = self.sessions.get(key, {}).get("conference_id") == conference_id
        if booked:
            self.sessions[key].update(state="booked", room_id=room_id)
        await self.release(conference_id, [other for other in others if other != key])
        return booked

    async def release_holds(self, conference_id: str, sessions: Iterable[str]) -> None:
        named = set(sessions)
        self.sessions = {k: v for k, v in self.sessions.items()
                         if not (k in named and v["conference_id"] == conference_id and v["state"] == "held")}

    async def release(self, conference_id: str, sessions: Iterable[str]) -> None:
        named = set(sessions)
        self.sessions = {k: v for k, v in self.sessions.items() if not (k in named and v["conference_id"] == conference_id)}

    def of(self, conference_id: str) -> list[dict[str, Any]]:
        return [v for v in self.sessions.values() if v["conference_id"] == conference_id]


class InMemoryArrivals:
    def __init__(self, per_day: int = 0) -> None:
        self.per_day = per_day
        self.added: list[date] = []

    async def add(self, day: date) -> None:
        self.added.append(day)

    async def on(self, days: list[date]) -> list[int]:
        return [self.per_day + self.added.count(day) for day in days]


def scheduling_for(profile_file: str, now: datetime, planner: str = "greedy", arrivals_a_day: int = 0) -> Scheduling:
    profile = load_profile(PROFILES / profile_file)
    store, relay, clock = InMemoryStore(), RecordingRelay(), FixedClock(now)
    return Scheduling(conferences=Repository(store, Conference, relay), cases=InMemoryCases(),  # type: ignore[arg-type]
                      chairs=InMemoryChairSessions(),  # type: ignore[arg-type]
                      tasks=TeamTasks(Repository(store, TeamTask, relay), profile, profile.calendar(), clock),
                      council=Council.of(profile), clock=clock, planner=planner,  # type: ignore[arg-type]
                      arrivals=InMemoryArrivals(arrivals_a_day))  # type: ignore[arg-type]


@pytest.fixture
def gloucestershire() -> Scheduling:
    return scheduling_for("gloucestershire-2022.yaml", datetime(2026, 11, 23, 10, 0, tzinfo=UTC))


def published(s: Scheduling, collection: str = "conferences") -> list[str]:
    store = s.conferences.store
    assert isinstance(store, InMemoryStore)
    return [entry["type"].split(".")[1] for entry in store.outbox(collection)]


def request(number: int, **overrides: Any) -> ConferenceRequested:
    data = casemgmt.conference_requested(number, basis=date(2026, 11, 20), **overrides)
    return ConferenceRequested.model_validate(data)


async def only_conference(s: Scheduling, case_id: str) -> Conference:
    (conference,) = await handlers.case_conferences(case_id, s)
    return conference


async def test_an_in_person_conference_asks_for_a_room_and_is_scheduled_when_one_is_booked(gloucestershire):
    s = gloucestershire
    wanted = request(1)
    await handlers.conference_requested(wanted, s)
    await handlers.conference_requested(wanted, s)  # redelivered: one conference
    conference = await only_conference(s, wanted.case_id)
    assert conference.status == ConferenceStatus.AWAITING_ROOM and published(s) == ["RoomRequested"]
    assert conference.candidates and all(c.starts_at.date() <= conference.statutory_deadline for c in conference.candidates)
    chosen = conference.candidates[0]
    booked = RoomBooked(conference_id=conference.id, booking_id="B-1", room_request_id=conference.room_request_id or "",
                        office_id="GL-GLOUCESTER", room_id="GL-GLOUCESTER-1", starts_at=chosen.starts_at,
                        ends_at=chosen.ends_at, hybrid=False)
    await handlers.room_booked(booked, s)
    await handlers.room_booked(booked, s)  # redelivered: scheduled once
    conference = await only_conference(s, wanted.case_id)
    assert conference.status == ConferenceStatus.SCHEDULED and conference.version == 1
    assert conference.office_id == "GL-GLOUCESTER" and conference.starts_at == chosen.starts_at
    assert published(s) == ["RoomRequested", "ConferenceScheduled"]
    sessions = s.chairs.of(conference.id)  # type: ignore[attr-defined]
    assert [(x["chair_id"], x["state"]) for x in sessions] == [(chosen.chair_id, "booked")]


async def test_no_room_three_times_leaves_it_unscheduled_and_the_team_is_told(gloucestershire):
    s = gloucestershire
    wanted = request(2)
    await handlers.conference_requested(wanted, s)
    for attempt in range(3):
        conference = await only_conference(s, wanted.case_id)
        assert conference.room_attempts == attempt + 1
        await handlers.room_unavailable(RoomUnavailable(conference_id=conference.id, reason="no_room",
                                                        room_request_id=conference.room_request_id or ""), s)
    conference = await only_conference(s, wanted.case_id)
    assert conference.status == ConferenceStatus.UNSCHEDULED
    assert published(s) == ["RoomRequested"] * 3 + ["ConferenceDeadlineAtRisk"]
    assert conference.late_reason == "no_room_before_deadline"  # chairs were free in time; rooms were not


NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def test_the_solver_offers_rooms_one_session_in_time_and_the_booking_keeps_its_room():
    s = scheduling_for("gloucestershire-2022.yaml", NOW, planner="solver")
    wanted = request(11)
    await handlers.conference_requested(wanted, s)
    conference = await only_conference(s, wanted.case_id)
    assert conference.status == ConferenceStatus.AWAITING_ROOM and published(s) == ["RoomRequested"]
    chosen, *fallbacks = conference.candidates  # the solver's first; the greedy planner's after it, for rooms
    assert chosen.starts_at.date() <= conference.statutory_deadline
    assert fallbacks and chosen.session not in {c.session for c in fallbacks}
    assert s.arrivals.added == [date(2026, 11, 23)]  # type: ignore[union-attr]
    await handlers.room_booked(RoomBooked(
        conference_id=conference.id, booking_id="B-11", room_request_id=conference.room_request_id or "",
        office_id="GL-GLOUCESTER", room_id="GL-GLOUCESTER-1", starts_at=chosen.starts_at, ends_at=chosen.ends_at,
        hybrid=False), s)
    assert (await only_conference(s, wanted.case_id)).status == ConferenceStatus.SCHEDULED
    diary = await s.chairs.diary(date(2026, 11, 23), date(2027, 1, 31))
    assert diary.rooms == {("GL-GLOUCESTER-1", chosen.starts_at.date(), chosen.starts_at.astimezone(s.council.zone).time()
                            .replace(tzinfo=None))}


@pytest.mark.parametrize(("arrivals_a_day", "under_pressure"), [(0, False), (500, True)])
async def test_under_pressure_the_solver_puts_an_initial_conference_as_early_as_notice_allows(arrivals_a_day,
                                                                                            under_pressure):
    s = scheduling_for("gloucestershire-2022.yaml", NOW, planner="solver", arrivals_a_day=arrivals_a_day)
    await handlers.conference_requested(request(12), s)
    chosen = (await only_conference(s, request(12).case_id)).candidates[0]
    policy, calendar = s.council.profile.policy_on(NOW.date()), s.council.calendar
    notice = first_day_for_invitations(NOW, policy, calendar, s.council.zone)
    usual = earliest_day(NOW, policy, calendar, s.council.zone, "initial")
    assert notice < usual
    assert (chosen.day == notice) is under_pressure and chosen.day >= (notice if under_pressure else usual)


async def test_when_rooms_refuse_the_solvers_session_the_conference_is_planned_again_without_it():
    s = scheduling_for("gloucestershire-2022.yaml", NOW, planner="solver")
    await handlers.conference_requested(request(13), s)
    first = await only_conference(s, request(13).case_id)
    await handlers.room_unavailable(RoomUnavailable(conference_id=first.id, reason="no_room",
                                                    room_request_id=first.room_request_id or ""), s)
    again = await only_conference(s, request(13).case_id)
    assert again.room_attempts == 2 and again.candidates
    assert not {c.session for c in first.candidates} & {c.session for c in again.candidates}


async def test_solves_take_turns_on_one_thread_of_their_own(monkeypatch):
    """CP-SAT's memory, allocated on whichever thread solves, stays with that thread's allocator: on one thread,
    scheduling stays under its memory budget when requests come together (measured: 160 MB against 120 MB)."""
    s = scheduling_for("gloucestershire-2022.yaml", NOW, planner="solver")
    threads: set[str] = set()
    running, most = 0, 0
    lock = threading.Lock()

    def watched(*args: Any, **kwargs: Any) -> Any:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            threads.add(threading.current_thread().name)
        try:
            time_module.sleep(0.05)
            return plan_window(*args, **kwargs)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(solving, "plan_window", watched)
    await asyncio.gather(*(handlers.conference_requested(request(n), s) for n in (21, 22, 23)))
    assert most == 1 and len(threads) == 1 and threading.current_thread().name not in threads
    for n in (21, 22, 23):
        assert (await only_conference(s, request(n).case_id)).candidates


async def test_essex_2020_holds_every_conference_online_at_once():
    s = scheduling_for("essex-2020.yaml", datetime(2020, 4, 1, 10, 0, tzinfo=UTC))
    wanted = request(3, basis_date="2020-03-31")
    await handlers.conference_requested(wanted, s)
    conference = await only_conference(s, wanted.case_id)
    assert conference.status == ConferenceStatus.SCHEDULED and conference.attendance_mode == "virtual"
    assert conference.office_id is None and published(s)[0] == "ConferenceScheduled"


async def test_an_outcome_that_starts_a_plan_plans_the_first_review_and_the_teams_tasks(gloucestershire):
    s = scheduling_for("essex-2020.yaml", datetime(2020, 4, 1, 10, 0, tzinfo=UTC))  # virtual: no rooms to answer
    wanted = request(4, basis_date="2020-03-31")
    await handlers.conference_requested(wanted, s)
    initial = await only_conference(s, wanted.case_id)
    assert initial.starts_at is not None
    outcome = ConferenceOutcomeRecorded(conference_id=initial.id, case_id=wanted.case_id,
                                        held_on=initial.starts_at.date(), outcome="plan_started", quorate=True)
    await handlers.outcome_recorded(outcome, "E-1", s)
    await handlers.outcome_recorded(outcome, "E-1", s)  # redelivered: one review
    conferences = await handlers.case_conferences(wanted.case_id, s)
    assert [c.conference_type for c in conferences] == ["initial", "review"]
    assert conferences[0].status == ConferenceStatus.HELD and conferences[1].previous_conference_id == initial.id
    tasks = await s.tasks.of_conference(initial.id)
    assert {t["task"] for t in tasks} == {"decision_letter", "conference_record", "first_core_group"}


async def test_a_cancellation_cancels_the_upcoming_conference_and_frees_its_chair(gloucestershire):
    s = gloucestershire
    wanted = request(5)
    await handlers.conference_requested(wanted, s)
    conference = await only_conference(s, wanted.case_id)
    cancel = ConferenceCancellationRequested(case_id=wanted.case_id, reason="family moved away")
    await handlers.cancellation_requested(cancel, "E-2", s)
    await handlers.cancellation_requested(cancel, "E-2", s)
    conference = await only_conference(s, wanted.case_id)
    assert conference.status == ConferenceStatus.CANCELLED and conference.cancel_reason == "cancelled_by_council"
    assert published(s) == ["RoomRequested", "ConferenceCancelled"]
    assert s.chairs.of(conference.id) == []  # type: ignore[attr-defined]


async def test_a_cancellation_or_details_change_about_a_case_or_conference_never_requested_is_refused(gloucestershire):
    s = gloucestershire
    with pytest.raises(Rejected, match="no conference for case CASE-NOBODY"):
        await handlers.cancellation_requested(ConferenceCancellationRequested(case_id="CASE-NOBODY", reason="x"), "E-1", s)
    with pytest.raises(Rejected, match="no conference for case CASE-NOBODY"):
        await handlers.case_details_changed(CaseDetailsChanged(case_id="CASE-NOBODY", family=None), "E-2", s)
    wanted = request(6)
    await handlers.conference_requested(wanted, s)
    with pytest.raises(Rejected, match="no conference CPC-OTHER for case"):
        await handlers.cancellation_requested(ConferenceCancellationRequested(
            case_id=wanted.case_id, conference_id="CPC-OTHER", reason="x"), "E-3", s)
    assert (await only_conference(s, wanted.case_id)).status != ConferenceStatus.CANCELLED
    assert published(s) == ["RoomRequested"]


async def test_a_late_conference_is_brought_in_time_by_moving_a_review_with_time_to_spare():
    """One chair, every session booked by reviews due months away: a new initial conference would be late; the
    solver moves reviews (none within the frozen days) and takes a session in time."""
    s = scheduling_for("gloucestershire-2022.yaml", NOW, planner="solver")
    profile = s.council.profile.model_copy(update={"chairs": s.council.profile.chairs[:1]})
    s = replace(s, council=Council.of(profile), max_moves=8, frozen_working_days=5)
    calendar, zone, chair = s.council.calendar, s.council.zone, profile.chairs[0].id
    today = s.council.local_date(NOW)
    day, reviews = calendar.add_working_days(today, 1), []
    while day <= calendar.add_working_days(today, 40):
        for at in profile.session_starts:
            n = len(reviews)
            review = Conference.requested(NewConference(
                request_id=f"review-{n}", case_id=f"CASE-R{n}",
                timescale=Timescale(kind="review", basis_date=today, previous_kind="initial"),
                invitees=[Invitee.model_validate(p.model_dump()) for p in request(14).participants], family_area=FamilyArea(postcode_district="GL1")),  # type: ignore[arg-type]
                calendar.add_working_days(today, 80), NOW)
            starts = datetime.combine(day, at, tzinfo=zone)
            slot = Candidate(starts, starts + timedelta(hours=1), chair, f"{day.isoformat()}|{at:%H:%M}", "in_person")
            review.schedule(slot, office_id="GL-GLOUCESTER", room_id=f"GL-GLOUCESTER-{n % 3 + 1}", booking_id=f"B-{n}",
                            now=NOW, council=s.council)
            await s.conferences.add(review)
            await s.chairs.hold(review.id, [slot], NOW, booked=True)
            reviews.append(review)
        day = calendar.add_working_days(day, 1)

    wanted = request(14)
    await handlers.conference_requested(wanted, s)
    conference = await only_conference(s, wanted.case_id)
    chosen = conference.candidates[0]
    assert chosen.day <= conference.statutory_deadline, "in time, by moving reviews"
    moved = [c for c in [await s.conferences.get(r.id) for r in reviews] if c and c.status == ConferenceStatus.MOVING]
    assert 1 <= len(moved) <= 8
    frozen_until = calendar.add_working_days(today, 5)
    for review in moved:
        (to,) = review.candidates
        assert to.day > review.starts_at.date() >= frozen_until  # type: ignore[union-attr]
        assert to.day <= review.statutory_deadline
    # The session it took was a moved review's; every chair session has one conference.
    holders = s.chairs.sessions  # type: ignore[attr-defined]
    assert holders[chosen.key]["conference_id"] == conference.id


async def test_a_review_the_planner_moved_whose_room_is_refused_is_planned_again_when_its_session_is_gone():
    s = scheduling_for("gloucestershire-2022.yaml", NOW, planner="solver")
    await handlers.conference_requested(request(15), s)
    first = await only_conference(s, request(15).case_id)
    chosen = first.candidates[0]
    await handlers.room_booked(RoomBooked(
        conference_id=first.id, booking_id="B-15", room_request_id=first.room_request_id or "",
        office_id="GL-GLOUCESTER", room_id="GL-GLOUCESTER-1", starts_at=chosen.starts_at, ends_at=chosen.ends_at,
        hybrid=False), s)
    scheduled = await only_conference(s, request(15).case_id)
    # The planner moves it: its session goes to another conference, a room is asked for a later time.
    later = Candidate(chosen.starts_at + timedelta(days=7), chosen.ends_at + timedelta(days=7), chosen.chair_id,
                      f"{(chosen.day + timedelta(days=7)).isoformat()}|{chosen.session.split('|')[1]}", "in_person")
    await s.chairs.release(scheduled.id, scheduled.chair_sessions())
    await s.chairs.hold("CPC-OTHER", [chosen], NOW, booked=True)
    await s.chairs.hold(scheduled.id, [later], NOW)
    scheduled.candidates = [later]
    scheduled.move(RoomRequested(conference_id=scheduled.id, case_id=scheduled.case_id, room_request_id="move-1",
                                 attendance_mode="in_person", in_person_attendees=3, family_area=scheduled.family_area,
                                 candidates=[Slot(starts_at=later.starts_at, ends_at=later.ends_at)]), NOW)
    await s.conferences.save(scheduled)
    await handlers.room_unavailable(RoomUnavailable(conference_id=scheduled.id, reason="no_room",
                                                    room_request_id="move-1"), s)
    again = await only_conference(s, request(15).case_id)
    assert again.status == ConferenceStatus.AWAITING_ROOM and again.candidates, "planned again, not left double-booked"
    assert chosen.session not in {c.session for c in again.candidates if c.chair_id == chosen.chair_id}
