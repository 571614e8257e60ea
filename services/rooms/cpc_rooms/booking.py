"""The booking process: answer each RoomRequested with RoomBooked or RoomUnavailable, hold the room
until scheduling confirms it, and release what is cancelled, moved or never confirmed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from cpc_rooms.adapters.store import BOOKINGS, claim_room, quarters, release_room, slot_key, taken_quarters
from cpc_rooms.domain.offices import offices_by_nearness, usable_rooms, why_unavailable
from cpc_shared.clock import Clock
from cpc_shared.contracts.outbound import RoomBooked, RoomReleased, RoomRequested, RoomUnavailable
from cpc_shared.envelope import event_id
from cpc_shared.logging import get_logger
from cpc_shared.outbox import OutboxRelay, outbox_entry
from cpc_shared.profile import Profile
from cpc_shared.store import find_where, update_where

log = get_logger(__name__)
# Scheduling confirms a booking within seconds; a hold left longer than this was never wanted.
HOLD_FOR = timedelta(hours=2)


class Bookings:
    def __init__(self, db: AsyncDatabase, profile: Profile, clock: Clock, relay: OutboxRelay) -> None:
        self.db = db
        self.bookings = db[BOOKINGS]
        self.profile = profile
        self.clock = clock
        self.relay = relay
        self.zone = ZoneInfo(profile.timezone)

    async def request(self, request: RoomRequested) -> None:
        booking_id = event_id("booking", request.room_request_id)
        if await self.bookings.find_one({"_id": booking_id}, {"_id": 1}):
            self.relay.notify(self.bookings.name, booking_id)  # decided already: the answer goes if it has not
            return
        now = self.clock.now()
        offices = offices_by_nearness(request.family_area, self.profile)
        current = next((i for i, office in enumerate(offices) if office.id == request.nearer_than_office_id), None)
        if current is not None:  # a move: the office it is in stays unless a nearer one has a room
            offices = offices[:current]
        decision = await self._book(request, booking_id, offices, now)
        if decision is None:
            unavailable = RoomUnavailable(conference_id=request.conference_id, room_request_id=request.room_request_id,
                                          reason=why_unavailable(offices, request))
            decision = {"status": "unavailable", "outbox": [outbox_entry(unavailable, at=now, cause=booking_id)]}
        try:
            await self.bookings.insert_one({"_id": booking_id, "conference_id": request.conference_id,
                                            "room_request_id": request.room_request_id, "created_at": now, **decision})
        except DuplicateKeyError:
            return
        log.info("room_decided", conference_id=request.conference_id, status=decision["status"],
                 office_id=decision.get("office_id"), room_id=decision.get("room_id"))
        self.relay.notify(self.bookings.name, booking_id)

    async def _book(self, request: RoomRequested, booking_id: str, offices: list, now: datetime) -> dict | None:
        # The statutory deadline comes first; then the family's nearest office; then the earliest time.
        deadline = request.statutory_deadline
        in_time = [s for s in request.candidates if deadline is None or s.starts_at.astimezone(self.zone).date() <= deadline]
        late = [s for s in request.candidates if s not in in_time]
        taken = await taken_quarters(self.db, min(s.starts_at for s in request.candidates),
                                     max(s.ends_at for s in request.candidates))
        for group in (in_time, late):
            for office in offices:
                for slot in group:
                    for room in usable_rooms(office, request, slot, self.zone):
                        if any(taken.get(slot_key(room.id, q), booking_id) != booking_id
                               for q in quarters(slot.starts_at, slot.ends_at)):
                            continue  # someone else's already (ours, from an attempt that crashed, is reclaimed)
                        if not await claim_room(self.db, room.id, slot.starts_at, slot.ends_at, booking_id):
                            continue
                        booked = RoomBooked(
                            conference_id=request.conference_id, booking_id=booking_id,
                            room_request_id=request.room_request_id, office_id=office.id, room_id=room.id,
                            starts_at=slot.starts_at, ends_at=slot.ends_at, hybrid=room.hybrid,
                        )
                        return {"status": "held", "hold_expires_at": now + HOLD_FOR, "office_id": office.id,
                                "room_id": room.id, "starts_at": slot.starts_at, "ends_at": slot.ends_at,
                                "outbox": [outbox_entry(booked, at=now, cause=booking_id)]}
        return None

    async def confirm(self, conference_id: str, booking_id: str | None) -> None:
        """Scheduling has scheduled the conference with this booking: keep it, and release any other."""
        if booking_id is None:
            return
        booking = await find_where(self.bookings, booking_id, {"conference_id": conference_id})
        if booking is None:
            return
        if booking["status"] == "released":  # the hold ran out before the confirmation came: take it back if free
            if await claim_room(self.db, booking["room_id"], booking["starts_at"], booking["ends_at"], booking_id):
                log.warning("expired_hold_reclaimed", conference_id=conference_id, booking_id=booking_id)
            else:
                log.error("expired_hold_lost", conference_id=conference_id, booking_id=booking_id)
                return
        await update_where(self.bookings, booking_id, {"status": {"$in": ["held", "released"]}},
                           {"$set": {"status": "booked"}, "$unset": {"hold_expires_at": ""}})
        await self.release({"conference_id": conference_id, "_id": {"$ne": booking_id}}, "conference_moved")

    async def release(self, query: dict[str, Any], reason: str) -> int:
        released_count = 0
        for booking in await self.bookings.find({"status": {"$in": ["held", "booked"]}, **query}).to_list():
            await release_room(self.db, booking["_id"])
            released = RoomReleased(conference_id=booking["conference_id"], booking_id=booking["_id"],
                                    office_id=booking["office_id"], room_id=booking["room_id"], reason=reason)
            released_count += await update_where(self.bookings, booking["_id"], {"status": booking["status"]}, {
                "$set": {"status": "released", "released_because": reason},
                "$push": {"outbox": outbox_entry(released, at=self.clock.now(), cause=f"{booking['_id']}-{reason}")}})
            self.relay.notify(self.bookings.name, booking["_id"])
        return released_count

    async def expire_holds(self) -> None:
        expired = await self.release({"status": "held", "hold_expires_at": {"$lt": self.clock.now()}}, "hold_expired")
        if expired:
            log.info("holds_expired", count=expired)
