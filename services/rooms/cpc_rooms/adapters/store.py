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
CONFERENCE_BOOKINGS = "conference_bookings"
READ_AT_ONCE = 400  # slot ids in one read by `_id`
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
    """The room diary: one document per room and quarter hour claimed; and, per conference, the bookings that
    claimed rooms for it (one document each, read by `_id`: FerretDB reads whole collections for other queries)."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.slots = db[ROOM_SLOTS]
        self.conferences = db[CONFERENCE_BOOKINGS]
        self._forgotten_before: datetime | None = None

    async def taken(self, keys: list[str]) -> dict[str, str]:
        """Who holds each of these room quarter hours (`slot_key`) that is claimed, read by `_id`."""
        holders: dict[str, str] = {}
        for start in range(0, len(keys), READ_AT_ONCE):
            async for doc in self.slots.find({"_id": {"$in": keys[start:start + READ_AT_ONCE]}}, {"booking_id": 1}):
                holders[doc["_id"]] = doc["booking_id"]
        return holders

    async def forget_before(self, instant: datetime) -> int:
        """Quarter hours gone by: no request reads them. Once per `instant` (it reads the whole collection)."""
        if self._forgotten_before is not None and instant <= self._forgotten_before:
            return 0
        forgotten = (await self.slots.delete_many({"at": {"$lt": instant.astimezone(UTC)}})).deleted_count
        self._forgotten_before = instant
        return forgotten

    async def list_booking(self, conference_id: str, booking_id: str) -> None:
        """Listed before the booking is written: a crash between leaves a listed id with no booking, which readers
        skip."""
        await self.conferences.update_one({"_id": conference_id}, {"$addToSet": {"booking_ids": booking_id}}, upsert=True)

    async def bookings_of(self, conference_id: str) -> list[str]:
        listed = await self.conferences.find_one({"_id": conference_id}, {"booking_ids": 1})
        return list((listed or {}).get("booking_ids", []))

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
