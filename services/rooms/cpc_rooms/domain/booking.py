"""A booking: the answer to one RoomRequested, and what became of the room it holds.

    held ──confirm──> booked ──release──> released
      │                                     ^
      └──────────────release (expired, cancelled, moved)
    unavailable (no room: the answer is RoomUnavailable, and nothing is held)

A released hold that scheduling confirms after all is booked again if its room is still free.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from cpc_shared.contracts.outbound import RoomBooked, RoomReleased, RoomRequested, RoomUnavailable, Slot
from cpc_shared.envelope import event_id
from cpc_shared.profile import Office, Room
from cpc_shared.repository import Aggregate

# Scheduling confirms a booking within seconds; a hold left longer than this was never wanted.
HOLD_FOR = timedelta(hours=2)


class BookingStatus(StrEnum):
    HELD = "held"
    BOOKED = "booked"
    RELEASED = "released"
    UNAVAILABLE = "unavailable"


class CannotConfirm(Exception):
    """Only a hold (or a hold that ran out) can be confirmed."""


class Booking(Aggregate):
    collection: ClassVar[str] = "bookings"

    conference_id: str
    room_request_id: str
    created_at: datetime
    status: BookingStatus
    office_id: str | None = None
    room_id: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    hold_expires_at: datetime | None = None
    released_because: str | None = None

    @staticmethod
    def id_for(request: RoomRequested) -> str:
        return event_id("booking", request.room_request_id)

    @classmethod
    def hold(cls, request: RoomRequested, office: Office, room: Room, slot: Slot, now: datetime) -> Booking:
        booking = cls(id=cls.id_for(request), conference_id=request.conference_id,
                      room_request_id=request.room_request_id, created_at=now, status=BookingStatus.HELD,
                      office_id=office.id, room_id=room.id, starts_at=slot.starts_at, ends_at=slot.ends_at,
                      hold_expires_at=now + HOLD_FOR)
        booking.record(RoomBooked(conference_id=request.conference_id, booking_id=booking.id,
                                  room_request_id=request.room_request_id, office_id=office.id, room_id=room.id,
                                  starts_at=slot.starts_at, ends_at=slot.ends_at, hybrid=room.hybrid),
                       at=now, cause=booking.id)
        return booking

    @classmethod
    def unavailable(cls, request: RoomRequested, reason: str, now: datetime) -> Booking:
        booking = cls(id=cls.id_for(request), conference_id=request.conference_id,
                      room_request_id=request.room_request_id, created_at=now, status=BookingStatus.UNAVAILABLE)
        booking.record(RoomUnavailable(conference_id=request.conference_id, room_request_id=request.room_request_id,
                                       reason=reason), at=now, cause=booking.id)
        return booking

    @property
    def holds_a_room(self) -> bool:
        return self.status in (BookingStatus.HELD, BookingStatus.BOOKED)

    def confirm(self) -> None:
        if self.status not in (BookingStatus.HELD, BookingStatus.RELEASED, BookingStatus.BOOKED):
            raise CannotConfirm(f"booking {self.id} is {self.status}")
        self.status, self.hold_expires_at, self.released_because = BookingStatus.BOOKED, None, None

    def release(self, reason: str, now: datetime) -> None:
        """Give the room up (a cancelled or moved conference, or a hold never confirmed); once."""
        if not self.holds_a_room:
            return
        assert self.office_id is not None and self.room_id is not None
        self.status, self.released_because, self.hold_expires_at = BookingStatus.RELEASED, reason, None
        self.record(RoomReleased(conference_id=self.conference_id, booking_id=self.id, office_id=self.office_id,
                                 room_id=self.room_id, reason=reason), at=now, cause=f"{self.id}-{reason}")
