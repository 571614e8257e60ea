"""Room holds on the real store: confirmed by scheduling, or released when they run out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cpc_rooms import handlers
from cpc_rooms.adapters.store import ROOM_SLOTS, RoomSlots, prepare
from cpc_rooms.domain.booking import HOLD_FOR, Booking
from cpc_rooms.handlers import Rooms
from cpc_shared.clock import FixedClock
from cpc_shared.contracts.outbound import ConferenceScheduled, FamilyArea, RoomRequested, Slot
from cpc_shared.fakes import RecordingRelay
from cpc_shared.profile import load_profile
from cpc_shared.repository import DocumentStore, Repository
from cpc_shared.settings import ServiceSettings
from cpc_shared.store import connect

PROFILE = load_profile(Path(__file__).resolve().parents[2] / "profiles" / "gloucestershire-2022.yaml")


def request_at(start: datetime, **fields) -> RoomRequested:
    return RoomRequested.model_validate({
        "conference_id": f"CPC-{uuid.uuid4().hex[:8]}", "case_id": "C", "room_request_id": str(uuid.uuid4()),
        "attendance_mode": "in_person", "in_person_attendees": 6,
        "family_area": FamilyArea(lat=51.99, lon=-2.16).model_dump(),
        "candidates": [Slot(starts_at=start, ends_at=start + timedelta(minutes=90)).model_dump()], **fields})


class Bookings:
    """The rooms service's handlers on a fresh database of the real store."""

    def __init__(self, db, profile, clock) -> None:
        self.rooms = Rooms(bookings=Repository(DocumentStore(db, "ferretdb1"), Booking, RecordingRelay()),
                           diary=RoomSlots(db), profile=profile, clock=clock)

    async def request(self, request: RoomRequested) -> None:
        await handlers.request_room(request, self.rooms)

    async def confirm(self, conference_id: str, booking_id: str) -> None:
        await handlers.confirm_booking(ConferenceScheduled.model_construct(conference_id=conference_id,
                                                                           booking_id=booking_id), self.rooms)

    async def expire_holds(self) -> None:
        await handlers.expire_holds(self.rooms)


async def bookings_on_fresh_store(stack, clock):
    settings = ServiceSettings(mongodb_url=stack.mongodb, database_prefix=f"cpc_holds_{uuid.uuid4().hex[:8]}")
    client, db = connect(settings, "rooms")
    await prepare(db)
    return client, db, Bookings(db, PROFILE, clock)


async def test_a_hold_scheduling_never_confirms_is_released_when_it_runs_out(stack):
    clock = FixedClock(datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    client, db, bookings = await bookings_on_fresh_store(stack, clock)
    try:
        request = request_at(datetime(2027, 3, 10, 9, 30, tzinfo=UTC))
        await bookings.request(request)
        booking = await db["bookings"].find_one({"conference_id": request.conference_id})
        assert booking["status"] == "held" and booking["office_id"] == "GL-TEWKESBURY"

        clock.advance(HOLD_FOR - timedelta(minutes=1))
        await bookings.expire_holds()
        assert (await db["bookings"].find_one({"_id": booking["_id"]}))["status"] == "held"

        clock.advance(timedelta(minutes=2))
        await bookings.expire_holds()
        expired = await db["bookings"].find_one({"_id": booking["_id"]})
        assert expired["status"] == "released" and expired["released_because"] == "hold_expired"
        assert [e["type"] for e in expired["outbox"]] == ["cpc.RoomBooked.v1", "cpc.RoomReleased.v1"]
        assert expired["outbox"][1]["data"]["reason"] == "hold_expired"
        assert await db[ROOM_SLOTS].count_documents({"booking_id": booking["_id"]}) == 0

        again = request_at(datetime(2027, 3, 10, 9, 30, tzinfo=UTC))
        await bookings.request(again)
        assert (await db["bookings"].find_one({"conference_id": again.conference_id}))["room_id"] == booking["room_id"]
    finally:
        await client.close()


async def test_a_confirmed_booking_is_kept_and_the_conferences_earlier_booking_released(stack):
    clock = FixedClock(datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    client, db, bookings = await bookings_on_fresh_store(stack, clock)
    try:
        first = request_at(datetime(2027, 3, 10, 9, 30, tzinfo=UTC))
        await bookings.request(first)
        first_booking = await db["bookings"].find_one({"conference_id": first.conference_id})
        await bookings.confirm(first.conference_id, first_booking["_id"])
        moved = request_at(datetime(2027, 3, 11, 13, 30, tzinfo=UTC), conference_id=first.conference_id)
        await bookings.request(moved)
        second = await db["bookings"].find_one({"room_request_id": moved.room_request_id})
        await bookings.confirm(first.conference_id, second["_id"])

        clock.advance(HOLD_FOR * 2)
        await bookings.expire_holds()
        assert (await db["bookings"].find_one({"_id": second["_id"]}))["status"] == "booked"
        earlier = await db["bookings"].find_one({"_id": first_booking["_id"]})
        assert earlier["status"] == "released" and earlier["released_because"] == "conference_moved"
        assert await db[ROOM_SLOTS].count_documents({"booking_id": second["_id"]}) == 6

        clock.advance(timedelta(days=11))  # the 11th has gone by: its quarter hours are forgotten, once that day
        await bookings.expire_holds()
        assert await db[ROOM_SLOTS].count_documents({}) == 0
        assert (await db["bookings"].find_one({"_id": second["_id"]}))["status"] == "booked"
    finally:
        await client.close()


async def test_a_closed_office_or_a_room_out_of_use_is_not_booked(stack):
    clock = FixedClock(datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    day = datetime(2027, 3, 10, 9, 30, tzinfo=UTC)
    tewkesbury = next(o for o in PROFILE.offices if o.id == "GL-TEWKESBURY")
    closed = tewkesbury.model_copy(update={"closure_days": [day.date()]})
    profile = PROFILE.model_copy(update={"offices": [closed if o.id == closed.id else o for o in PROFILE.offices]})
    client, db, _ = await bookings_on_fresh_store(stack, clock)
    try:
        bookings = Bookings(db, profile, clock)
        request = request_at(day)
        await bookings.request(request)
        booking = await db["bookings"].find_one({"conference_id": request.conference_id})
        assert booking["office_id"] != "GL-TEWKESBURY"
    finally:
        await client.close()


async def test_a_move_goes_only_to_an_office_nearer_the_family_than_the_one_it_is_in(stack):
    clock = FixedClock(datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    client, db, bookings = await bookings_on_fresh_store(stack, clock)
    try:
        start = datetime(2027, 3, 10, 9, 30, tzinfo=UTC)
        # Tewkesbury's one room and both of Cheltenham's are taken at that time.
        for _ in range(3):
            await bookings.request(request_at(start))
        taken = {b["office_id"] async for b in db["bookings"].find({})}
        assert taken == {"GL-TEWKESBURY", "GL-CHELTENHAM"}

        # A family moved to Tewkesbury; its conference is in Gloucester: Stroud is farther, so it stays.
        move = request_at(start, nearer_than_office_id="GL-GLOUCESTER")
        await bookings.request(move)
        answer = await db["bookings"].find_one({"room_request_id": move.room_request_id})
        assert answer["status"] == "unavailable" and answer.get("office_id") is None
        assert answer["outbox"][0]["type"] == "cpc.RoomUnavailable.v1"
        assert "nearer" in answer["outbox"][0]["data"]["reason"]

        # From Stroud, Gloucester is nearer the family, and has a room.
        from_stroud = request_at(start, nearer_than_office_id="GL-STROUD")
        await bookings.request(from_stroud)
        booked = await db["bookings"].find_one({"room_request_id": from_stroud.room_request_id})
        assert booked["status"] == "held" and booked["office_id"] == "GL-GLOUCESTER"
    finally:
        await client.close()
