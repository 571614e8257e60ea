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


class RoomSlots:
    """The room diary: one document per room and quarter hour claimed."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.slots = db[ROOM_SLOTS]

    async def taken(self, first: datetime, last: datetime) -> dict[str, str]:
        """Who holds each room quarter hour claimed between `first` and `last` (one read, to skip what is taken)."""
        return {doc["_id"]: doc["booking_id"] async for doc in self.slots.find(
            {"at": {"$gte": first.astimezone(UTC), "$lt": last}}, {"booking_id": 1})}

    async def claim(self, room_id: str, starts_at: datetime, ends_at: datetime, booking_id: str) -> bool:
        """Claim the room for the period, all or nothing. True if the booking holds it now."""
        wanted = [{"_id": slot_key(room_id, q), "room_id": room_id, "at": q, "booking_id": booking_id}
                  for q in quarters(starts_at, ends_at)]
        try:
            await self.slots.insert_many(wanted, ordered=True)
            return True
        except BulkWriteError:
            pass
        holders = {doc["_id"]: doc["booking_id"]
                   async for doc in self.slots.find({"_id": {"$in": [w["_id"] for w in wanted]}})}
        if all(holders.get(w["_id"]) == booking_id for w in wanted):
            return True  # ours already: a retry after a crash
        if all(holder == booking_id for holder in holders.values()):
            # Partly ours, the rest free: an earlier attempt stopped half-way; finish it.
            try:
                await self.slots.insert_many([w for w in wanted if w["_id"] not in holders], ordered=True)
                return True
            except BulkWriteError:
                pass
        await self.slots.delete_many({"booking_id": booking_id, "room_id": room_id})
        return False

    async def release(self, booking_id: str) -> None:
        await self.slots.delete_many({"booking_id": booking_id})
