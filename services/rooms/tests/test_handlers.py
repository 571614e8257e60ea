"""The rooms service layer on in-memory fakes: what each event does to bookings, and what is published."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cpc_rooms import handlers
from cpc_rooms.adapters.store import quarters, slot_key
from cpc_rooms.domain.booking import HOLD_FOR, Booking, BookingStatus
from cpc_rooms.handlers import Rooms
from cpc_shared.clock import FixedClock
from cpc_shared.contracts.outbound import ConferenceCancelled, ConferenceScheduled, FamilyArea, RoomRequested, Slot
from cpc_shared.fakes import InMemoryStore, RecordingRelay
from cpc_shared.profile import load_profile
from cpc_shared.repository import Repository, StaleWrite

PROFILE = load_profile(Path(__file__).resolve().parents[3] / "profiles" / "gloucestershire-2022.yaml")
TEWKESBURY = FamilyArea(lat=51.99, lon=-2.16)


class InMemoryDiary:
    def __init__(self) -> None:
        self.slots: dict[str, str] = {}
        self.listed: dict[str, list[str]] = {}

    async def taken(self, keys: list[str]) -> dict[str, str]:
        return {key: self.slots[key] for key in keys if key in self.slots}

    async def list_booking(self, conference_id: str, booking_id: str) -> None:
        self.listed.setdefault(conference_id, [])
        if booking_id not in self.listed[conference_id]:
            self.listed[conference_id].append(booking_id)

    async def bookings_of(self, conference_id: str) -> list[str]:
        return list(self.listed.get(conference_id, []))

    async def forget_before(self, instant: datetime) -> int:
        return 0

    async def claim(self, room_id: str, starts_at: datetime, ends_at: datetime, booking_id: str) -> bool:
        wanted = [slot_key(room_id, q) for q in quarters(starts_at, ends_at)]
        if any(self.slots.get(key, booking_id) != booking_id for key in wanted):
            return False
        self.slots.update({key: booking_id for key in wanted})
        return True

    async def release(self, booking_id: str) -> None:
        self.slots = {key: holder for key, holder in self.slots.items() if holder != booking_id}


@pytest.fixture
def rooms() -> Rooms:
    store = InMemoryStore()
    return Rooms(bookings=Repository(store, Booking, RecordingRelay()), diary=InMemoryDiary(), profile=PROFILE,
                 clock=FixedClock(datetime(2027, 3, 1, 8, 0, tzinfo=UTC)))


def published(rooms: Rooms) -> list[str]:
    store = rooms.bookings.store
    assert isinstance(store, InMemoryStore)
    return [entry["type"].split(".")[1] for entry in store.outbox(Booking.collection)]


def request(start: datetime, **fields) -> RoomRequested:
    return RoomRequested(conference_id=fields.pop("conference_id", f"CPC-{uuid.uuid4().hex[:6]}"), case_id="C",
                         room_request_id=str(uuid.uuid4()), attendance_mode="in_person", in_person_attendees=6,
                         family_area=TEWKESBURY, candidates=[Slot(starts_at=start, ends_at=start + timedelta(hours=1))],
                         **fields)


async def test_a_request_holds_a_room_in_the_nearest_office_and_says_so_once(rooms):
    wanted = request(datetime(2027, 3, 10, 9, 30, tzinfo=UTC))
    await handlers.request_room(wanted, rooms)
    await handlers.request_room(wanted, rooms)  # redelivered
    booking = await rooms.bookings.get(Booking.id_for(wanted))
    assert booking is not None and booking.status == BookingStatus.HELD and booking.office_id == "GL-TEWKESBURY"
    assert booking.hold_expires_at == rooms.clock.now() + HOLD_FOR
    assert published(rooms) == ["RoomBooked"]
    assert rooms.bookings.relay.notified == [("bookings", booking.id)]


async def test_when_every_nearer_room_is_taken_a_move_is_answered_unavailable(rooms):
    start = datetime(2027, 3, 10, 9, 30, tzinfo=UTC)
    for _ in range(3):  # Tewkesbury's room and both of Cheltenham's
        await handlers.request_room(request(start), rooms)
    move = request(start, nearer_than_office_id="GL-GLOUCESTER")
    await handlers.request_room(move, rooms)
    answer = await rooms.bookings.get(Booking.id_for(move))
    assert answer is not None and answer.status == BookingStatus.UNAVAILABLE and answer.room_id is None
    assert published(rooms)[-1] == "RoomUnavailable"


async def test_confirming_keeps_the_booking_and_releases_the_conferences_earlier_one(rooms):
    first = request(datetime(2027, 3, 10, 9, 30, tzinfo=UTC))
    await handlers.request_room(first, rooms)
    moved = request(datetime(2027, 3, 11, 13, 30, tzinfo=UTC), conference_id=first.conference_id)
    await handlers.request_room(moved, rooms)
    scheduled = ConferenceScheduled.model_construct(conference_id=first.conference_id,
                                                    booking_id=Booking.id_for(moved))
    await handlers.confirm_booking(scheduled, rooms)
    kept, earlier = await rooms.bookings.get(Booking.id_for(moved)), await rooms.bookings.get(Booking.id_for(first))
    assert kept.status == BookingStatus.BOOKED and kept.hold_expires_at is None
    assert earlier.status == BookingStatus.RELEASED and earlier.released_because == "conference_moved"
    assert published(rooms) == ["RoomBooked", "RoomReleased", "RoomBooked"]


async def test_a_hold_never_confirmed_runs_out_and_frees_its_room(rooms):
    wanted = request(datetime(2027, 3, 10, 9, 30, tzinfo=UTC))
    await handlers.request_room(wanted, rooms)
    rooms.clock.advance(HOLD_FOR + timedelta(minutes=1))
    await handlers.expire_holds(rooms)
    booking = await rooms.bookings.get(Booking.id_for(wanted))
    assert booking.status == BookingStatus.RELEASED and booking.released_because == "hold_expired"
    assert rooms.diary.slots == {}

    # Scheduling confirms it after all: the room is free still, so it is taken back.
    await handlers.confirm_booking(ConferenceScheduled.model_construct(conference_id=wanted.conference_id,
                                                                       booking_id=booking.id), rooms)
    assert (await rooms.bookings.get(booking.id)).status == BookingStatus.BOOKED and rooms.diary.slots


async def test_cancelling_releases_every_room_the_conference_holds(rooms):
    wanted = request(datetime(2027, 3, 10, 9, 30, tzinfo=UTC))
    await handlers.request_room(wanted, rooms)
    await handlers.release_bookings(ConferenceCancelled(conference_id=wanted.conference_id, case_id="C",
                                                        reason="cancelled_by_council"), rooms)
    await handlers.release_bookings(ConferenceCancelled(conference_id=wanted.conference_id, case_id="C",
                                                        reason="cancelled_by_council"), rooms)
    assert published(rooms) == ["RoomBooked", "RoomReleased"]
    assert rooms.diary.slots == {}


async def test_two_writers_of_one_booking_cannot_both_save(rooms):
    wanted = request(datetime(2027, 3, 10, 9, 30, tzinfo=UTC))
    await handlers.request_room(wanted, rooms)
    mine, theirs = await rooms.bookings.get(Booking.id_for(wanted)), await rooms.bookings.get(Booking.id_for(wanted))
    theirs.confirm()
    await rooms.bookings.save(theirs)
    mine.release("hold_expired", rooms.clock.now())
    with pytest.raises(StaleWrite):
        await rooms.bookings.save(mine)
    assert (await rooms.bookings.get(mine.id)).status == BookingStatus.BOOKED
    assert published(rooms) == ["RoomBooked"]
