"""What the conference team does to conferences over HTTP: a chair reschedules, holds an informal review, records
that the family could not join; the team enters a chair's absence or a birth. Each is one handler over the same
steps as the events' (handlers.py); each refusal says why, in words the conference team would use."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from cpc_shared.contracts.outbound import RoomRequested, Slot
from cpc_shared.envelope import event_id
from cpc_shared.http import Identity
from cpc_shared.logging import get_logger

from cpc_scheduling.domain.conference import Conference, ConferenceStatus, NewConference
from cpc_scheduling.domain.planning import Candidate, chair_for_session
from cpc_scheduling.domain.tasks import family_could_not_join as discussions_with_family
from cpc_scheduling.domain.timescales import Timescale, statutory_deadline
from cpc_scheduling.handlers import Scheduling, case_conferences, plan, plan_again

log = get_logger(__name__)


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


async def _conference(conference_id: str, by: Identity, s: Scheduling) -> Conference:
    conference = await s.conferences.get(conference_id)
    if conference is None:
        raise Refused(404, f"no conference {conference_id}")
    # Only the chair (or the chair's manager) moves a conference (docs/domain.md, who may move a conference).
    if by.role == "chair" and conference.chair_id != by.chair_id:
        raise Refused(403, "only this conference's chair or a manager may change it")
    return conference


async def reschedule(conference_id: str, starts_at: datetime, reason: str | None, by: Identity, s: Scheduling
                     ) -> dict[str, Any]:
    conference = await _conference(conference_id, by, s)
    if conference.status != ConferenceStatus.SCHEDULED:
        raise Refused(409, f"only a scheduled conference can be rescheduled; this one is {conference.status}")
    profile, calendar, now = s.council.profile, s.council.calendar, s.clock.now()
    local = starts_at.astimezone(s.council.zone)
    day, at = local.date(), local.time().replace(tzinfo=None)
    if starts_at <= now:
        raise Refused(422, "starts_at is in the past")
    if not calendar.is_working_day(day):
        raise Refused(422, f"{day.isoformat()} is not a working day")
    if at not in profile.session_starts:
        times = ", ".join(t.strftime("%H:%M") for t in profile.session_starts)
        raise Refused(422, f"conferences start at {times} (local time)")
    deadline = conference.statutory_deadline
    if day > deadline and not (reason and reason.strip()):
        raise Refused(422, f"the new date is after the statutory deadline {deadline.isoformat()}: give the reason")
    chair = profile.chair(conference.chair_id or "")
    if chair is None or not chair.available_on(day) or await s.chairs.is_away(chair.id, day):
        raise Refused(409, f"the chair is not working on {day.isoformat()}")
    kind = conference.conference_type
    mode = profile.policy_on(day).attendance[kind]
    candidate = Candidate(starts_at, starts_at + timedelta(minutes=profile.conference_minutes[kind]), chair.id,
                          f"{day.isoformat()}|{at:%H:%M}", mode)
    if not await s.chairs.hold(conference_id, [candidate], now):
        raise Refused(409, "the chair already has a conference at that time")
    conference.note("reschedule_requested", now, by=by.subject, to=starts_at, past_deadline=day > deadline,
                    reason=reason)
    conference.late_reason = (conference.late_reason or "rescheduled_by_chair") if day > deadline else None
    if mode == "virtual":
        await s.chairs.book(conference_id, chair.id, candidate.session, others=conference.chair_sessions())
        conference.schedule(candidate, office_id=None, room_id=None, booking_id=None, now=now, council=s.council)
    else:
        conference.candidates = [candidate]
        conference.move(RoomRequested(
            conference_id=conference_id, case_id=conference.case_id,
            room_request_id=event_id("room-reschedule", conference_id, conference.version, starts_at.isoformat()),
            attendance_mode=mode, in_person_attendees=len(conference.invitees) + 1,
            family_area=conference.family_area, step_free_access=conference.step_free_access,
            hearing_loop=conference.hearing_loop, candidates=[Slot(starts_at=candidate.starts_at, ends_at=candidate.ends_at)],
            statutory_deadline=deadline,
        ), now)
    await s.conferences.save(conference)
    return {"conference_id": conference_id, "status": conference.status.value,
            "note": "a room is being booked for the new time" if mode != "virtual" else "rescheduled"}


async def informal_review(conference_id: str, held_on: date, next_review_by: date | None, by: Identity,
                          s: Scheduling) -> dict[str, Any]:
    conference = await _conference(conference_id, by, s)
    if conference.conference_type != "review":
        raise Refused(422, "an informal review replaces a review conference only")
    if not conference.upcoming:
        raise Refused(409, f"this conference is {conference.status}")
    now = s.clock.now()
    if held_on > s.council.local_date(now):
        raise Refused(422, "held_on is in the future")
    conference.informal_review_held(held_on, by.subject, now)
    await s.conferences.save(conference)
    await s.chairs.release(conference_id, conference.chair_sessions())
    planned = await plan(NewConference(
        request_id=f"{conference_id}/after-informal-review", case_id=conference.case_id,
        timescale=Timescale(kind="review", basis_date=held_on, previous_kind="review"),
        invitees=conference.invitees, family_area=conference.family_area,
        step_free_access=conference.step_free_access, hearing_loop=conference.hearing_loop,
        previous_conference_id=conference_id, deadline_by=next_review_by,
        interpreter_language=conference.interpreter_language,
    ), s)
    return {"conference_id": conference_id, "status": "informal_review_held",
            "next_review": {"conference_id": planned.id, "statutory_deadline": planned.statutory_deadline.isoformat()}}


async def family_could_not_join(conference_id: str, by: Identity, s: Scheduling) -> dict[str, Any]:
    """The co-ordinator and the social worker hold a discussion with the family before the conference and
    another after it (Essex 2020): two tasks, with due dates, for the team to do and record."""
    conference = await _conference(conference_id, by, s)
    if not conference.starts_at:
        raise Refused(409, "the conference has no date yet")
    day = s.council.local_date(conference.starts_at)
    conference.family_cannot_join(by.subject, s.clock.now())
    await s.conferences.save(conference)
    await s.tasks.add(conference_id, conference.case_id, discussions_with_family(day, s.council.calendar))
    tasks = {task["task"]: task for task in await s.tasks.of_conference(conference_id)}
    return {"conference_id": conference_id,
            "pre_conference_discussion_by": tasks["pre_conference_discussion"]["due_on"],
            "post_conference_discussion_by": tasks["post_conference_discussion"]["due_on"],
            "tasks": [tasks[k] for k in ("pre_conference_discussion", "post_conference_discussion")]}


async def chair_away(chair_id: str, first: date, last: date, kind: str, by: Identity, s: Scheduling) -> dict[str, Any]:
    """A chair's leave or sickness: their conferences in those days are covered by another chair at the same
    time where possible, or planned again; no new conference is planned with them for those days."""
    if s.council.profile.chair(chair_id) is None:
        raise Refused(404, f"no chair {chair_id} in the council's profile")
    if last < first:
        raise Refused(422, "last_day is before first_day")
    if by.role == "chair" and by.chair_id != chair_id:
        raise Refused(403, "a chair may enter only their own absence; a coordinator or manager may enter any")
    now = s.clock.now()
    absence = await s.chairs.add_absence(chair_id, first, last, kind, by.subject, now)
    affected = [c for c in await s.conferences.find({"chair_id": chair_id, "status": ConferenceStatus.SCHEDULED.value})
                if c.starts_at and now < c.starts_at and first <= s.council.local_date(c.starts_at) <= last]
    results = []
    for conference in sorted(affected, key=lambda c: c.starts_at or now):
        outcome = await _cover(conference, now, s)
        results.append({"conference_id": conference.id, "outcome": outcome, "chair_id": conference.chair_id})
    return {"absence": {k: absence[k] for k in ("chair_id", "first_day", "last_day", "kind")}, "conferences": results}


async def _cover(conference: Conference, now: datetime, s: Scheduling) -> str:
    """The conference's chair is away on its day: another chair takes it at the same time and place where one is
    free ("covered"), and the case keeps its usual chair for later reviews; otherwise it is planned again, by its
    deadline, with chairs who are there ("replanned"). Either way it goes out as ConferenceRescheduled."""
    here = conference.here_and_now()
    day, at = s.council.local_date(here.starts_at), here.starts_at.astimezone(s.council.zone).time().replace(tzinfo=None)
    diary = await s.chairs.diary(day, day)
    cover = chair_for_session(conference.conference_type, day, at, s.council.profile, diary, conference.case_id,
                              preferred=None)
    away = here.chair_id
    if cover and await s.chairs.move(conference.id, f"{away}|{here.session}", cover.id, here.session):
        conference.chair_covered(cover.id, now, s.council)
        outcome = "covered"
    else:
        conference.usual_chair_id = conference.usual_chair_id or away
        conference.note("replanned_chair_away", now, chair_away=away)
        await plan_again(conference, now, None, s)
        outcome = "replanned"
    await s.conferences.save(conference)
    log.info("chair_away", conference_id=conference.id, outcome=outcome)
    return outcome


async def birth_recorded(case_id: str, born_on: date, by: Identity, s: Scheduling) -> dict[str, Any]:
    """The child of a pre-birth conference is born: the first review is due soon after the real birth."""
    now = s.clock.now()
    if born_on > s.council.local_date(now):
        raise Refused(422, "born_on is in the future")
    conferences = await case_conferences(case_id, s)
    if not conferences:
        raise Refused(404, f"no conferences for case {case_id}")
    await s.cases.record_birth(case_id, born_on)
    results = []
    for conference in conferences:
        if (not conference.upcoming or conference.conference_type != "review"
                or conference.previous_conference_type != "pre_birth"):
            continue
        timescale = Timescale(kind="review", basis_date=conference.basis_date, previous_kind="pre_birth",
                              expected_birth_date=born_on)
        deadline = statutory_deadline(timescale, s.council.calendar, s.council.profile.policy_on(timescale.basis_date))
        results.append({"conference_id": conference.id, "statutory_deadline": deadline,
                        "outcome": await _new_deadline(conference, deadline, now, s)})
    for conference in conferences:
        if conference.conference_type == "pre_birth":
            conference.note("birth_recorded", now, by=by.subject)
            await s.conferences.save(conference)
    return {"case_id": case_id, "born_on": born_on, "first_reviews": results}


async def _new_deadline(conference: Conference, deadline: date, now: datetime, s: Scheduling) -> str:
    """The first review after a pre-birth conference has a new deadline now the child is born: it stays where it
    is if that is still in time ("kept"), else it is planned again by the new deadline ("replanned")."""
    scheduled = conference.status == ConferenceStatus.SCHEDULED
    conference.new_deadline(deadline, now)
    outcome = "kept"
    if scheduled:
        assert conference.starts_at is not None
        if s.council.local_date(conference.starts_at) > deadline:
            await plan_again(conference, now, conference.chair_id, s)
            outcome = "replanned"
        else:  # subscribers hear the new deadline
            conference.announce(now, s.council)
    await s.conferences.save(conference)
    return outcome
