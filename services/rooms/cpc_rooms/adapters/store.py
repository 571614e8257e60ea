"""Bookings that cannot overlap, on single-document atomic writes only.

A booking claims its room for every quarter hour it covers: one document per (room, quarter hour),
its `_id` unique by construction. Two replicas racing for the same room and time cannot both insert
the same `_id`, so one wins and the other backs off, releasing what it had claimed. The claim
documents carry the booking id, so a retried claim recognises its own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

BOOKINGS = "bookings"
ROOM_SLOTS = "room_slots"
QUARTER = timedelta(minutes=15)


async def prepare(db: AsyncDatabase) -> None:
    await db[BOOKINGS].create_index([("conference_id", ASCENDING)], name="by_conference")
    await db[ROOM_SLOTS].create_index([("booking_id", ASCENDING)], name="by_booking")


def quarters(starts_at: datetime, ends_at: datetime) -> list[datetime]:
    start = starts_at.astimezone(UTC)
    start -= timedelta(minutes=start.minute % 15, seconds=start.second, microseconds=start.microsecond)
    out = []
    while start < ends_at:
        out.append(start)
        start += QUARTER
    return out


def slot_key(room_id: str, quarter: datetime) -> str:
    return f"{room_id}|{quarter.isoformat()}"


async def taken_quarters(db: AsyncDatabase, first: datetime, last: datetime) -> dict[str, str]:
    """Who holds each room quarter hour claimed between `first` and `last` (one read, to skip what is taken)."""
    return {doc["_id"]: doc["booking_id"] async for doc in db[ROOM_SLOTS].find(
        {"at": {"$gte": first.astimezone(UTC), "$lt": last}}, {"booking_id": 1})}


async def claim_room(db: AsyncDatabase, room_id: str, starts_at: datetime, ends_at: datetime, booking_id: str) -> bool:
    """Claim the room for the period, all or nothing. True if the booking holds it now."""
    slots = db[ROOM_SLOTS]
    wanted = [{"_id": slot_key(room_id, q), "room_id": room_id, "at": q, "booking_id": booking_id}
              for q in quarters(starts_at, ends_at)]
    try:
        await slots.insert_many(wanted, ordered=True)
        return True
    except BulkWriteError:
        pass
    holders = {doc["_id"]: doc["booking_id"] async for doc in slots.find({"_id": {"$in": [w["_id"] for w in wanted]}})}
    if all(holders.get(w["_id"]) == booking_id for w in wanted):
        return True  # ours already: a retry after a crash
    if all(holder == booking_id for holder in holders.values()):
        # Partly ours, the rest free: an earlier attempt stopped half-way; finish it.
        return await claim_room_rest(db, wanted, holders, booking_id)
    await slots.delete_many({"booking_id": booking_id, "room_id": room_id})
    return False


async def claim_room_rest(db: AsyncDatabase, wanted: list[dict], holders: dict, booking_id: str) -> bool:
    rest = [w for w in wanted if w["_id"] not in holders]
    try:
        await db[ROOM_SLOTS].insert_many(rest, ordered=True)
        return True
    except BulkWriteError:
        await db[ROOM_SLOTS].delete_many({"booking_id": booking_id})
        return False


async def release_room(db: AsyncDatabase, booking_id: str) -> None:
    await db[ROOM_SLOTS].delete_many({"booking_id": booking_id})
