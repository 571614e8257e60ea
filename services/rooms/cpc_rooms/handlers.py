"""The rooms service layer: one handler per event it takes, each loading bookings, applying a transition and
saving them through the repository (which publishes what they record).

    RoomRequested          -> request_room      (RoomBooked: a room held; or RoomUnavailable)
    ConferenceScheduled /
    ConferenceRescheduled  -> confirm_booking   (the hold is kept; the conference's other bookings released)
    ConferenceCancelled    -> release_bookings  (RoomReleased)
    every 30 s             -> expire_holds      (holds never confirmed: RoomReleased)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from cpc_shared.clock import Clock
from cpc_shared.contracts.outbound import ConferenceArrangements, ConferenceCancelled, RoomRequested
from cpc_shared.logging import get_logger
from cpc_shared.offices import offices_by_nearness
from cpc_shared.profile import Office, Profile
from cpc_shared.repository import Repository

from cpc_rooms.adapters.store import quarters, slot_key
from cpc_rooms.domain.booking import Booking, BookingStatus
from cpc_rooms.domain.offices import usable_rooms, why_unavailable

log = get_logger(__name__)


class RoomDiary(Protocol):
    async def taken(self, keys: list[str]) -> dict[str, str]: ...
    async def list_booking(self, conference_id: str, booking_id: str) -> None: ...
    async def bookings_of(self, conference_id: str) -> list[str]: ...
    async def forget_before(self, instant: datetime) -> int: ...
    async def claim(self, room_id: str, starts_at: datetime, ends_at: datetime, booking_id: str) -> bool: ...
    async def release(self, booking_id: str) -> None: ...


@dataclass(frozen=True)
class Rooms:
    """What the handlers work with (wired by bootstrap.py; fakes in the service-layer tests)."""

    bookings: Repository[Booking]
    diary: RoomDiary
    profile: Profile
    clock: Clock

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.profile.timezone)


async def request_room(request: RoomRequested, rooms: Rooms) -> None:
    """Hold a room: by the statutory deadline first, then in the office nearest the family, then earliest."""
    if await rooms.bookings.get(Booking.id_for(request)):
        return  # answered already (a redelivery); the repository published the answer with it
    now = rooms.clock.now()
    offices = offices_by_nearness(request.family_area, rooms.profile)
    current = next((i for i, office in enumerate(offices) if office.id == request.nearer_than_office_id), None)
    if current is not None:  # a move: the office it is in stays unless a nearer one has a room
        offices = offices[:current]
    booking = await _hold(request, offices, rooms, now)
    if booking is not None:
        await rooms.diary.list_booking(request.conference_id, booking.id)
    else:
        booking = Booking.unavailable(request, why_unavailable(offices, request), now)
    if await rooms.bookings.add(booking):
        log.info("room_decided", conference_id=request.conference_id, status=booking.status,
                 office_id=booking.office_id, room_id=booking.room_id)


async def _hold(request: RoomRequested, offices: list[Office], rooms: Rooms, now: datetime) -> Booking | None:
    booking_id, zone, deadline = Booking.id_for(request), rooms.zone, request.statutory_deadline
    in_time = [s for s in request.candidates if deadline is None or s.starts_at.astimezone(zone).date() <= deadline]
    late = [s for s in request.candidates if s not in in_time]
    taken: dict[str, str] = {}
    looked_at: set[str] = set()
    for group in (in_time, late):
        for office in offices:
            # The office's rooms at these times, read by id when first wanted: most requests end at the first.
            keys = {slot_key(room.id, q) for slot in group for room in usable_rooms(office, request, slot, zone)
                    for q in quarters(slot.starts_at, slot.ends_at)} - looked_at
            if keys:
                taken.update(await rooms.diary.taken(sorted(keys)))
                looked_at |= keys
            for slot in group:
                for room in usable_rooms(office, request, slot, zone):
                    if any(taken.get(slot_key(room.id, q), booking_id) != booking_id
                           for q in quarters(slot.starts_at, slot.ends_at)):
                        continue  # someone else's already (ours, from an attempt that crashed, is reclaimed)
                    if await rooms.diary.claim(room.id, slot.starts_at, slot.ends_at, booking_id):
                        return Booking.hold(request, office, room, slot, now)
    return None


async def confirm_booking(scheduled: ConferenceArrangements, rooms: Rooms) -> None:
    """Scheduling has (re)scheduled the conference with this booking: keep it, and release any other."""
    if scheduled.booking_id is None:
        return
    booking = await rooms.bookings.get(scheduled.booking_id)
    if booking is None or booking.conference_id != scheduled.conference_id:
        return
    if booking.status == BookingStatus.RELEASED:  # the hold ran out before the confirmation: take it back if free
        assert booking.room_id and booking.starts_at and booking.ends_at
        if not await rooms.diary.claim(booking.room_id, booking.starts_at, booking.ends_at, booking.id):
            log.error("expired_hold_lost", conference_id=booking.conference_id, booking_id=booking.id)
            return
        log.warning("expired_hold_reclaimed", conference_id=booking.conference_id, booking_id=booking.id)
    if booking.status != BookingStatus.BOOKED:
        booking.confirm()
        await rooms.bookings.save(booking)
    others = [booking_id for booking_id in await rooms.diary.bookings_of(scheduled.conference_id)
              if booking_id != booking.id]
    await _release_listed(others, "conference_moved", rooms)


async def release_bookings(cancelled: ConferenceCancelled, rooms: Rooms) -> None:
    await _release_listed(await rooms.diary.bookings_of(cancelled.conference_id), "conference_cancelled", rooms)


async def _release_listed(booking_ids: list[str], reason: str, rooms: Rooms) -> None:
    """The conference's bookings, by id: those that hold a room let it go."""
    for booking_id in booking_ids:
        booking = await rooms.bookings.get(booking_id)
        if booking is not None and booking.status in (BookingStatus.HELD, BookingStatus.BOOKED):
            await _let_go(booking, reason, rooms)


async def expire_holds(rooms: Rooms) -> None:
    expired = await _release({"status": BookingStatus.HELD.value, "hold_expires_at": {"$lt": rooms.clock.now()}},
                             "hold_expired", rooms)
    if expired:
        log.info("holds_expired", count=expired)
    today = datetime.combine(rooms.clock.now().astimezone(rooms.zone).date(), time(), tzinfo=rooms.zone)
    await rooms.diary.forget_before(today)  # days gone by


async def _release(query: dict[str, Any], reason: str, rooms: Rooms) -> int:
    released = 0
    for booking in await rooms.bookings.find({"status": {"$in": ["held", "booked"]}, **query}):
        await _let_go(booking, reason, rooms)
        released += 1
    return released


async def _let_go(booking: Booking, reason: str, rooms: Rooms) -> None:
    await rooms.diary.release(booking.id)
    booking.release(reason, rooms.clock.now())
    await rooms.bookings.save(booking)
