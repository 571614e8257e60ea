"""The rooms process: books the room for a conference in the office nearest the family."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from pymongo.errors import DuplicateKeyError

from cpc_rooms.adapters.store import BOOKINGS, claim_room, prepare, release_room
from cpc_rooms.domain.offices import offices_by_nearness, suitable_rooms
from cpc_shared.consumer import Route
from cpc_shared.contracts import Topics
from cpc_shared.contracts.outbound import ConferenceCancelled, RoomBooked, RoomReleased, RoomRequested, RoomUnavailable
from cpc_shared.envelope import Envelope, event_id
from cpc_shared.logging import get_logger
from cpc_shared.outbox import outbox_entry
from cpc_shared.profile import load_profile
from cpc_shared.service import Service
from cpc_shared.settings import ProfiledSettings

log = get_logger(__name__)


def build() -> Service:
    settings = ProfiledSettings()
    profile = load_profile(settings.profile_path)
    service = Service(
        "rooms", settings, outbox_collections=[BOOKINGS], prepare_store=prepare,
        description="District offices and rooms: bookings that never overlap, in the office nearest the family.",
    )
    db = service.db
    bookings = db[BOOKINGS]
    clock = service.clock
    zone = ZoneInfo(profile.timezone)

    async def on_room_requested(request: RoomRequested, envelope: Envelope) -> None:
        booking_id = event_id("booking", request.room_request_id)
        if await bookings.find_one({"_id": booking_id}, {"_id": 1}):
            return  # decided already; the outbox relay publishes the answer
        decision: dict[str, Any] | None = None
        offices = offices_by_nearness(request.family_area, profile)
        # The statutory deadline comes first; then the family's nearest office; then the earliest time.
        in_time = [s for s in request.candidates
                   if request.statutory_deadline is None or s.starts_at.astimezone(zone).date() <= request.statutory_deadline]
        late = [s for s in request.candidates if s not in in_time]
        for group in (in_time, late):
            for office in offices:
                for slot in group:
                    for room in suitable_rooms(office, request):
                        if await claim_room(db, room.id, slot.starts_at, slot.ends_at, booking_id):
                            booked = RoomBooked(
                                conference_id=request.conference_id, booking_id=booking_id,
                                room_request_id=request.room_request_id, office_id=office.id, room_id=room.id,
                                starts_at=slot.starts_at, ends_at=slot.ends_at, hybrid=room.hybrid,
                            )
                            decision = {"status": "booked", "office_id": office.id, "room_id": room.id,
                                        "starts_at": slot.starts_at, "ends_at": slot.ends_at,
                                        "outbox": [outbox_entry(booked, at=clock.now(), cause=booking_id)]}
                            break
                    if decision:
                        break
                if decision:
                    break
            if decision:
                break
        if decision is None:
            reason = "no suitable room free in the nearest offices for any candidate slot"
            unavailable = RoomUnavailable(conference_id=request.conference_id,
                                          room_request_id=request.room_request_id, reason=reason)
            decision = {"status": "unavailable", "outbox": [outbox_entry(unavailable, at=clock.now(), cause=booking_id)]}
        try:
            await bookings.insert_one({"_id": booking_id, "conference_id": request.conference_id,
                                       "room_request_id": request.room_request_id, "created_at": clock.now(), **decision})
        except DuplicateKeyError:
            return
        log.info("room_decided", conference_id=request.conference_id, status=decision["status"],
                 office_id=decision.get("office_id"), room_id=decision.get("room_id"))
        if decision["status"] == "booked":
            # One booking per conference: a new one (the family moved) releases the one before.
            await release_bookings({"conference_id": request.conference_id, "_id": {"$ne": booking_id}})
        service.relay.notify()

    async def release_bookings(query: dict[str, Any]) -> None:
        async for booking in bookings.find({**query, "status": "booked"}):
            await release_room(db, booking["_id"])
            released = RoomReleased(conference_id=booking["conference_id"], booking_id=booking["_id"],
                                    office_id=booking["office_id"], room_id=booking["room_id"])
            await bookings.update_one(
                {"_id": booking["_id"], "status": "booked"},
                {"$set": {"status": "released"},
                 "$push": {"outbox": outbox_entry(released, at=clock.now(), cause=booking["_id"])}},
            )

    async def on_conference_cancelled(cancelled: ConferenceCancelled, envelope: Envelope) -> None:
        await release_bookings({"conference_id": cancelled.conference_id})
        service.relay.notify()

    service.consume(Topics.CONFERENCES, {
        RoomRequested.type: Route(RoomRequested, on_room_requested),
        ConferenceCancelled.type: Route(ConferenceCancelled, on_conference_cancelled),
    })
    service.publishes(RoomBooked, RoomUnavailable, RoomReleased)
    return service
