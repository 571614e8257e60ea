"""The scheduling process: the case-management system's requests and outcomes in, conferences out."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from cpc_shared.consumer import Rejected, Route
from cpc_shared.contracts import Topics
from cpc_shared.contracts.inbound import (
    CaseDetailsChanged,
    ConferenceCancellationRequested,
    ConferenceOutcomeRecorded,
    ConferenceRequested,
)
from cpc_shared.contracts.outbound import (
    ConferenceCancelled,
    ConferenceDeadlineAtRisk,
    ConferenceRescheduled,
    ConferenceScheduled,
    ConferenceTaskDue,
    ConferenceTaskOverdue,
    FamilyArea,
    InterpreterRequested,
    Invitee,
    QuorumAtRisk,
    RoomBooked,
    RoomRequested,
    RoomUnavailable,
    Slot,
)
from cpc_shared.envelope import Envelope, event_id
from cpc_shared.logging import get_logger
from cpc_shared.outbox import outbox_entry
from cpc_shared.service import Service
from cpc_shared.settings import StaffApiSettings
from cpc_shared.store import update_where
from pydantic import Field

from cpc_scheduling.adapters.store import CONFERENCES, CaseIndex, ChairSessions, prepare
from cpc_scheduling.api import build_api
from cpc_scheduling.domain.planning import family_area, needs_hearing_loop, needs_step_free
from cpc_scheduling.domain.tasks import after_conference
from cpc_scheduling.domain.timescales import Timescale, next_review
from cpc_scheduling.process import UPCOMING, NewConference, Scheduler
from cpc_scheduling.team_tasks import TASKS, TeamTasks

log = get_logger(__name__)


class SchedulingSettings(StaffApiSettings):
    timer_poll_seconds: float = Field(5.0, gt=0, description="How often the team's tasks are checked for reminders.")


def build() -> Service:
    settings = SchedulingSettings()
    profile = settings.profile()
    calendar = profile.calendar()
    service = Service(
        "scheduling", settings, outbox_collections=[CONFERENCES, TASKS], prepare_store=prepare,
        description="Conferences: statutory deadlines, chairs, slots, rooms requested, conferences scheduled.",
    )
    conferences = service.db[CONFERENCES]
    cases = CaseIndex(service.db)
    chairs = ChairSessions(service.db)
    clock = service.clock
    scheduler = Scheduler(conferences, cases, chairs, profile, calendar, clock, service.relay)
    team_tasks = TeamTasks(service.db, profile, calendar, clock, service.relay)

    async def on_conference_requested(request: ConferenceRequested, envelope: Envelope) -> None:
        await scheduler.plan(NewConference(
            request_id=request.request_id,
            case_id=request.case_id,
            timescale=Timescale(kind=request.conference_type, basis_date=request.basis_date,
                                previous_kind=request.previous_conference_type,
                                expected_birth_date=request.expected_birth_date),
            invitees=[Invitee.model_validate(p.model_dump()) for p in request.participants],
            family_area=family_area(request.family),
            step_free_access=needs_step_free(request.family.accessibility_needs),
            hearing_loop=needs_hearing_loop(request.family.accessibility_needs),
            previous_conference_id=request.previous_conference_id,
            interpreter_language=request.family.language if request.family.interpreter_needed else None,
        ))

    async def on_outcome_recorded(outcome: ConferenceOutcomeRecorded, envelope: Envelope) -> None:
        held = await conferences.find_one({"_id": outcome.conference_id})
        if held is None or held["case_id"] != outcome.case_id:
            raise Rejected(f"no conference {outcome.conference_id[:40]} for case {outcome.case_id[:40]}")
        await conferences.update_one({"_id": held["_id"]}, {"$set": {
            "status": "held", "outcome": outcome.outcome, "held_on": outcome.held_on.isoformat(),
            "quorate": outcome.quorate}})
        waived = profile.policy_on(outcome.held_on).quoracy_waived
        await team_tasks.add(held["_id"], held["case_id"], after_conference(
            outcome.held_on, outcome.outcome, makes_a_plan=outcome.quorate or waived,
            policy=profile.policy_on(outcome.held_on), calendar=calendar))
        follow_on = dict(case_id=held["case_id"], invitees=[Invitee.model_validate(i) for i in held["invitees"]],
                         family_area=FamilyArea.model_validate(held["family_area"]),
                         step_free_access=held["step_free_access"], hearing_loop=held["hearing_loop"],
                         previous_conference_id=held["_id"], interpreter_language=held.get("interpreter_language"))
        if not outcome.quorate and not waived and outcome.outcome != "plan_ended":
            # An inquorate conference cannot make a plan: the chair sets an interim plan and a new date.
            await scheduler.plan(NewConference(
                request_id=f"{held['_id']}/reconvened",
                timescale=Timescale(kind=held["conference_type"], basis_date=outcome.held_on, reconvened=True,
                                    previous_kind=held.get("previous_conference_type"),
                                    expected_birth_date=None),
                reconvened_from=held["_id"], **follow_on))
        elif outcome.outcome in ("plan_started", "plan_continued"):
            expected = date.fromisoformat(held["expected_birth_date"]) if held.get("expected_birth_date") else None
            birth = await cases.born_on(held["case_id"]) or expected
            await scheduler.plan(NewConference(
                request_id=f"{held['_id']}/next-review",
                timescale=next_review(held["conference_type"], outcome.held_on, birth), **follow_on))
        elif outcome.outcome == "plan_ended":
            await cancel_upcoming(outcome.case_id, None, "plan_ended", envelope.id)

    async def cancel_upcoming(case_id: str, conference_id: str | None, reason: str, cause: str) -> None:
        for conference in await cases.conferences(case_id):
            if conference["status"] not in UPCOMING or conference_id not in (None, conference["_id"]):
                continue
            cancelled = ConferenceCancelled(conference_id=conference["_id"], case_id=conference["case_id"], reason=reason)
            now = clock.now()
            updated = await update_where(conferences, conference["_id"], {"status": conference["status"]}, {
                "$set": {"status": "cancelled", "cancel_reason": reason},
                "$push": {"outbox": outbox_entry(cancelled, at=now, cause=cause), "history": {"at": now, "what": reason}}})
            service.relay.notify(conferences.name, conference["_id"])
            if updated:
                await chairs.release(conference["_id"])

    async def on_cancellation_requested(request: ConferenceCancellationRequested, envelope: Envelope) -> None:
        # The council's free-text reason stays in its own system; the event says only who cancelled.
        await cancel_upcoming(request.case_id, request.conference_id or None, "cancelled_by_council", envelope.id)

    async def on_case_details_changed(change: CaseDetailsChanged, envelope: Envelope) -> None:
        if change.participants:  # the case's participants now (an empty list would invite nobody: ignored)
            await scheduler.participants_changed(
                await cases.conferences(change.case_id),
                [Invitee.model_validate(p.model_dump()) for p in change.participants], clock.now())
        if change.family is None:
            return
        area = family_area(change.family)
        for conference in await cases.conferences(change.case_id):
            if conference["status"] != "scheduled" or conference.get("attendance_mode") == "virtual":
                continue
            if FamilyArea.model_validate(conference["family_area"]) == area:
                continue
            # Same time and chair, in the office nearest the family's new home.
            room_request = RoomRequested(
                conference_id=conference["_id"], case_id=conference["case_id"],
                room_request_id=event_id("room-move", conference["_id"], envelope.id),
                attendance_mode=conference["attendance_mode"], in_person_attendees=len(conference["invitees"]) + 1,
                family_area=area, step_free_access=needs_step_free(change.family.accessibility_needs),
                hearing_loop=needs_hearing_loop(change.family.accessibility_needs),
                candidates=[Slot(starts_at=conference["starts_at"], ends_at=conference["ends_at"])],
                statutory_deadline=conference["statutory_deadline"], nearer_than_office_id=conference.get("office_id"),
            )
            current = {"starts_at": conference["starts_at"], "ends_at": conference["ends_at"],
                       "chair_id": conference["chair_id"], "session": conference["chair_session"],
                       "attendance_mode": conference["attendance_mode"]}
            await update_where(conferences, conference["_id"], {"status": "scheduled", "version": conference["version"]}, {
                "$set": {"status": "moving", "family_area": area.model_dump(), "candidates": [current],
                         "room_request_id": room_request.room_request_id,
                         "step_free_access": room_request.step_free_access, "hearing_loop": room_request.hearing_loop},
                "$push": {"outbox": outbox_entry(room_request, at=clock.now(), cause=room_request.room_request_id)}})
            service.relay.notify(conferences.name, conference["_id"])

    async def on_room_booked(booked: RoomBooked, envelope: Envelope) -> None:
        await scheduler.room_booked(booked.conference_id, booked.room_request_id, booked.starts_at, booked.office_id,
                                    booked.room_id, booked.booking_id, booked.hybrid)

    async def on_room_unavailable(unavailable: RoomUnavailable, envelope: Envelope) -> None:
        await scheduler.room_unavailable(unavailable.conference_id, unavailable.room_request_id)

    async def expire_chair_holds() -> None:
        await chairs.expire_holds(clock.now())

    service.consume(Topics.CASEMGMT, {
        ConferenceRequested.type: Route(ConferenceRequested, on_conference_requested),
        ConferenceCancellationRequested.type: Route(ConferenceCancellationRequested, on_cancellation_requested),
        ConferenceOutcomeRecorded.type: Route(ConferenceOutcomeRecorded, on_outcome_recorded),
        CaseDetailsChanged.type: Route(CaseDetailsChanged, on_case_details_changed),
    })
    service.consume(Topics.ROOMS, {
        RoomBooked.type: Route(RoomBooked, on_room_booked),
        RoomUnavailable.type: Route(RoomUnavailable, on_room_unavailable),
    })
    zone = ZoneInfo(profile.timezone)

    async def past_deadline_not_held() -> float:
        """Conferences still to be held (or rearranged) whose statutory deadline, a date, has gone by."""
        today = clock.now().astimezone(zone).date().isoformat()
        overdue = await conferences.find(
            {"status": {"$in": list(UPCOMING)}, "statutory_deadline": {"$lt": today}}, {"_id": 1}).to_list()
        return len(overdue)

    service.metrics.gauge("cpc_conferences_past_deadline_not_held",
                          "Conferences not yet held whose statutory deadline has passed.", past_deadline_not_held)
    service.every(60, expire_chair_holds)
    service.every(settings.timer_poll_seconds, team_tasks.remind)
    service.mount_api(build_api(scheduler, team_tasks, settings.staff_token_secret.get_secret_value(), service.serial))
    service.publishes(ConferenceScheduled, ConferenceRescheduled, ConferenceCancelled, ConferenceDeadlineAtRisk,
                      QuorumAtRisk, RoomRequested, ConferenceTaskDue, ConferenceTaskOverdue, InterpreterRequested)
    return service
