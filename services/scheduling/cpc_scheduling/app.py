"""The scheduling process: turns requests into conferences with a deadline, a chair, a slot and a room."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from cpc_scheduling.adapters.store import CONFERENCES, prepare
from cpc_scheduling.domain.planning import (
    candidate_slots,
    choose_chair,
    family_area,
    needs_hearing_loop,
    needs_step_free,
)
from cpc_scheduling.domain.timescales import statutory_deadline
from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.consumer import Route
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
    ConferenceScheduled,
    Invitee,
    RoomBooked,
    RoomRequested,
    RoomUnavailable,
    Slot,
)
from cpc_shared.envelope import Envelope, event_id
from cpc_shared.logging import get_logger
from cpc_shared.outbox import outbox_entry
from cpc_shared.profile import load_profile
from cpc_shared.service import Service
from cpc_shared.settings import ProfiledSettings

log = get_logger(__name__)
UPCOMING = ("awaiting_room", "scheduled", "unscheduled")


def conference_id_for(request_id: str) -> str:
    return "CPC-" + event_id("conference", request_id)[:13].upper().replace("-", "")


def build() -> Service:
    settings = ProfiledSettings()
    profile = load_profile(settings.profile_path)
    calendar = WorkingDayCalendar([*profile.closure_days, *settings.closure_days])
    service = Service(
        "scheduling", settings, outbox_collections=[CONFERENCES], prepare_store=prepare,
        description="Conferences: statutory deadlines, chairs, slots, rooms requested, conferences scheduled.",
    )
    conferences = service.db[CONFERENCES]
    clock = service.clock

    def scheduled_event(conference: dict[str, Any], slot: Slot, office_id: str | None, room_id: str | None,
                        booking_id: str | None) -> ConferenceScheduled:
        return ConferenceScheduled(
            conference_id=conference["_id"],
            case_id=conference["case_id"],
            request_id=conference["request_id"],
            conference_type=conference["conference_type"],
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            statutory_deadline=conference["statutory_deadline"],
            within_timescale=slot.starts_at.date() <= datetime.fromisoformat(conference["statutory_deadline"]).date(),
            attendance_mode=conference["attendance_mode"],
            office_id=office_id,
            room_id=room_id,
            chair_id=conference["chair_id"],
            booking_id=booking_id,
            meeting_link=None if conference["attendance_mode"] == "in_person"
            else profile.meeting_link_template.format(conference_id=conference["_id"]),
            version=conference.get("version", 0) + 1,
            invitees=[Invitee.model_validate(invitee) for invitee in conference["invitees"]],
        )

    async def on_conference_requested(request: ConferenceRequested, envelope: Envelope) -> None:
        if await conferences.find_one({"request_id": request.request_id}, {"_id": 1}):
            return  # the same request again: one conference
        now = clock.now()
        deadline = statutory_deadline(request, calendar, profile.pre_birth_by_weeks_of_pregnancy)
        candidates = candidate_slots(request, deadline, now, profile, calendar)
        first_day = candidates[0].starts_at.date()
        mode = profile.policy_on(first_day).attendance[request.conference_type]
        conference: dict[str, Any] = {
            "_id": conference_id_for(request.request_id),
            "request_id": request.request_id,
            "case_id": request.case_id,
            "conference_type": request.conference_type,
            "statutory_deadline": deadline.isoformat(),
            "chair_id": choose_chair(request.case_id, profile.chairs, first_day).id,
            "attendance_mode": mode,
            "invitees": [Invitee.model_validate(p.model_dump()).model_dump() for p in request.participants],
            "requested_at": request.requested_at,
            "version": 0,
        }
        if mode == "virtual":
            scheduled = scheduled_event(conference, candidates[0], None, None, None)
            conference.update(status="scheduled", version=1, **_slot_fields(candidates[0]),
                              outbox=[outbox_entry(scheduled, at=now, cause="v1")])
        else:
            room_request = RoomRequested(
                conference_id=conference["_id"],
                case_id=request.case_id,
                room_request_id=event_id("room-request", conference["_id"], 1),
                attendance_mode=mode,
                in_person_attendees=len(request.participants) + 1,  # everyone invited, and the chair
                family_area=family_area(request.family),
                step_free_access=needs_step_free(request.family.accessibility_needs),
                hearing_loop=needs_hearing_loop(request.family.accessibility_needs),
                candidates=candidates,
            )
            conference.update(status="awaiting_room", room_request_id=room_request.room_request_id,
                              outbox=[outbox_entry(room_request, at=now, cause="1")])
        try:
            await conferences.insert_one(conference)
        except DuplicateKeyError:
            return
        log.info("conference_planned", conference_id=conference["_id"], status=conference["status"],
                 statutory_deadline=conference["statutory_deadline"])
        service.relay.notify()

    async def on_room_booked(booked: RoomBooked, envelope: Envelope) -> None:
        conference = await conferences.find_one({"_id": booked.conference_id})
        if conference is None or conference["status"] != "awaiting_room" \
                or conference.get("room_request_id") != booked.room_request_id:
            return  # already scheduled from this booking, or superseded
        slot = Slot(starts_at=booked.starts_at, ends_at=booked.ends_at)
        scheduled = scheduled_event(conference, slot, booked.office_id, booked.room_id, booked.booking_id)
        result = await conferences.update_one(
            {"_id": conference["_id"], "status": "awaiting_room", "room_request_id": booked.room_request_id},
            {
                "$set": {"status": "scheduled", "office_id": booked.office_id, "room_id": booked.room_id,
                         "booking_id": booked.booking_id, "version": scheduled.version, **_slot_fields(slot)},
                "$push": {"outbox": outbox_entry(scheduled, at=clock.now(), cause=f"v{scheduled.version}")},
            },
        )
        if result.modified_count:
            log.info("conference_scheduled", conference_id=conference["_id"], within_timescale=scheduled.within_timescale)
            service.relay.notify()

    async def on_room_unavailable(unavailable: RoomUnavailable, envelope: Envelope) -> None:
        conference = await conferences.find_one({"_id": unavailable.conference_id})
        if conference is None or conference["status"] != "awaiting_room":
            return
        at_risk = ConferenceDeadlineAtRisk(
            conference_id=conference["_id"], case_id=conference["case_id"],
            statutory_deadline=conference["statutory_deadline"], reason=f"no_room: {unavailable.reason}",
        )
        result = await conferences.update_one(
            {"_id": conference["_id"], "status": "awaiting_room", "room_request_id": unavailable.room_request_id},
            {"$set": {"status": "unscheduled"},
             "$push": {"outbox": outbox_entry(at_risk, at=clock.now(), cause=unavailable.room_request_id)}},
        )
        if result.modified_count:
            service.relay.notify()

    async def cancel_upcoming(query: dict[str, Any], reason: str, cause: str) -> None:
        async for conference in conferences.find({**query, "status": {"$in": list(UPCOMING)}}):
            cancelled = ConferenceCancelled(conference_id=conference["_id"], case_id=conference["case_id"], reason=reason)
            await conferences.update_one(
                {"_id": conference["_id"], "status": conference["status"]},
                {"$set": {"status": "cancelled", "cancel_reason": reason},
                 "$push": {"outbox": outbox_entry(cancelled, at=clock.now(), cause=cause)}},
            )
        service.relay.notify()

    async def on_cancellation_requested(request: ConferenceCancellationRequested, envelope: Envelope) -> None:
        # The council's free-text reason stays here; the event says only that the council cancelled it.
        query: dict[str, Any] = {"case_id": request.case_id}
        if request.conference_id:
            query["_id"] = request.conference_id
        await cancel_upcoming(query, "cancelled_by_council", envelope.id)

    async def on_outcome_recorded(outcome: ConferenceOutcomeRecorded, envelope: Envelope) -> None:
        await conferences.update_one(
            {"_id": outcome.conference_id, "case_id": outcome.case_id},
            {"$set": {"outcome": outcome.outcome, "held_on": outcome.held_on.isoformat(), "quorate": outcome.quorate}},
        )
        if outcome.outcome == "plan_ended":
            await cancel_upcoming({"case_id": outcome.case_id, "_id": {"$ne": outcome.conference_id}},
                                  "plan_ended", envelope.id)

    async def on_case_details_changed(change: CaseDetailsChanged, envelope: Envelope) -> None:
        log.info("case_details_changed", case_id=change.case_id)

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
    service.publishes(ConferenceScheduled, ConferenceCancelled, ConferenceDeadlineAtRisk, RoomRequested)
    return service


def _slot_fields(slot: Slot) -> dict[str, datetime]:
    return {"starts_at": slot.starts_at, "ends_at": slot.ends_at}
