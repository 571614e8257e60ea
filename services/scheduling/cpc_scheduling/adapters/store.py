"""Scheduling's own database: one document per conference (its outbox inside it), and chairs' sessions.

A chair's session is one document whose `_id` is "<chair>|<day>|<HH:MM>": two conferences can never
hold the same chair at the same time, whatever replicas race for it. A session is first held for a
candidate slot, then booked when the room is; holds not confirmed expire.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from cpc_shared.repository import DocumentStore
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from cpc_scheduling.domain.conference import Conference
from cpc_scheduling.domain.planning import Candidate, ChairDiary

CONFERENCES = Conference.collection
CHAIR_SESSIONS = "chair_sessions"
CASES = "cases"
CHAIR_ABSENCES = "chair_absences"
ARRIVALS = "arrivals"
HOLD_FOR = timedelta(minutes=30)


async def prepare(db: AsyncDatabase) -> None:
    await db[CONFERENCES].create_index([("request_id", ASCENDING)], unique=True, name="one_conference_per_request")
    await db[CONFERENCES].create_index([("case_id", ASCENDING)], name="by_case")
    await db[CHAIR_SESSIONS].create_index([("day", ASCENDING)], name="by_day")
    await db[CHAIR_SESSIONS].create_index([("conference_id", ASCENDING)], name="by_conference")


class CaseIndex:
    """Each case's conferences, listed in a document of the case's own.

    FerretDB 1.x on SQLite finds a document by `_id` without reading the whole collection, and reads
    every document for any other query: looking a case's conferences up by `case_id` on each request
    was most of the store's work in a simulated month. A conference is listed before it is written,
    so a crash between the two leaves at worst a listed id with no conference, which readers skip.
    """

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._cases = store.db[CASES]

    async def add(self, case_id: str, conference_id: str) -> None:
        async with self._store.locked(CASES, case_id):
            await self._cases.update_one({"_id": case_id}, {"$addToSet": {"conference_ids": conference_id}}, upsert=True)

    async def record_birth(self, case_id: str, born_on: date) -> None:
        async with self._store.locked(CASES, case_id):
            await self._cases.update_one({"_id": case_id}, {"$set": {"born_on": born_on.isoformat()}}, upsert=True)

    async def born_on(self, case_id: str) -> date | None:
        case = await self._cases.find_one({"_id": case_id}, {"born_on": 1})
        return date.fromisoformat(case["born_on"]) if case and case.get("born_on") else None

    async def conference_ids(self, case_id: str) -> list[str]:
        case = await self._cases.find_one({"_id": case_id}, {"conference_ids": 1})
        return list((case or {}).get("conference_ids", []))


class ChairSessions:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._sessions = store.db[CHAIR_SESSIONS]
        self._absences = store.db[CHAIR_ABSENCES]

    async def diary(self, first: date, last: date) -> ChairDiary:
        diary = ChairDiary()
        async for doc in self._sessions.find({"day": {"$gte": first.isoformat(), "$lte": last.isoformat()}},
                                             {"chair_id": 1, "day": 1, "at": 1, "room_id": 1}):
            day, at = date.fromisoformat(doc["day"]), time.fromisoformat(doc["at"])
            diary.take(doc["chair_id"], day, at)
            if doc.get("room_id"):
                diary.rooms.add((doc["room_id"], day, at))
        for absence in await self.absences(first, last):
            day = max(first, date.fromisoformat(absence["first_day"]))
            while day <= min(last, date.fromisoformat(absence["last_day"])):
                diary.away.add((absence["chair_id"], day))
                day += timedelta(days=1)
        return diary

    async def add_absence(self, chair_id: str, first: date, last: date, kind: str, by: str, now: datetime
                          ) -> dict[str, Any]:
        """A chair's leave or sickness, as the team enters it; the same absence twice is one."""
        absence = {"_id": f"{chair_id}|{first.isoformat()}|{last.isoformat()}", "chair_id": chair_id,
                   "first_day": first.isoformat(), "last_day": last.isoformat(), "kind": kind, "entered_by": by,
                   "entered_at": now}
        try:
            await self._absences.insert_one(absence)
        except DuplicateKeyError:
            pass
        return absence

    async def absences(self, first: date, last: date, chair_id: str | None = None) -> list[dict[str, Any]]:
        """Absences that overlap `first`..`last` (a small collection: read whole)."""
        return [a async for a in self._absences.find({} if chair_id is None else {"chair_id": chair_id})
                if a["first_day"] <= last.isoformat() and a["last_day"] >= first.isoformat()]

    async def is_away(self, chair_id: str, day: date) -> bool:
        return bool(await self.absences(day, day, chair_id))

    async def move(self, conference_id: str, old: str | None, new_chair_id: str, session: str) -> bool:
        """Book another chair's session for a conference, then free the old one; False if that session is taken."""
        day, at = session.split("|")
        try:
            await self._sessions.insert_one({"_id": f"{new_chair_id}|{session}", "chair_id": new_chair_id, "day": day,
                                             "at": at, "conference_id": conference_id, "state": "booked"})
        except DuplicateKeyError:
            holder = await self._sessions.find_one({"_id": f"{new_chair_id}|{session}"}, {"conference_id": 1})
            if not holder or holder["conference_id"] != conference_id:
                return False
        if old:
            await self._sessions.delete_one({"_id": old, "conference_id": conference_id})
        return True

    async def hold(self, conference_id: str, candidates: list[Candidate], now: datetime, *, booked: bool = False
                   ) -> list[Candidate]:
        """Claim each candidate's chair session for this conference; returns the candidates that are ours."""
        ours = []
        for candidate in candidates:
            day, at = candidate.session.split("|")
            key = f"{candidate.chair_id}|{candidate.session}"
            try:
                await self._sessions.insert_one({
                    "_id": key, "chair_id": candidate.chair_id, "day": day, "at": at, "conference_id": conference_id,
                    "state": "booked" if booked else "held", "until": now + HOLD_FOR,
                })
                ours.append(candidate)
            except DuplicateKeyError:
                holder = await self._sessions.find_one({"_id": key}, {"conference_id": 1})
                if holder and holder["conference_id"] == conference_id:
                    ours.append(candidate)  # ours already: a retry after a crash
        return ours

    async def book(self, conference_id: str, chair_id: str, session: str, room_id: str | None = None) -> bool:
        """Turn this conference's hold into its booking (with the room booked for it); its other holds (and any
        earlier booking) go."""
        key = f"{chair_id}|{session}"
        booked = await self._store.update_if(CHAIR_SESSIONS, key, {"conference_id": conference_id},
                                             {"$set": {"state": "booked", "room_id": room_id}, "$unset": {"until": ""}})
        await self._sessions.delete_many({"conference_id": conference_id, "_id": {"$ne": key}})
        return booked

    async def release_holds(self, conference_id: str) -> None:
        await self._sessions.delete_many({"conference_id": conference_id, "state": "held"})

    async def release(self, conference_id: str) -> None:
        await self._sessions.delete_many({"conference_id": conference_id})

    async def expire_holds(self, now: datetime) -> int:
        result = await self._sessions.delete_many({"state": "held", "until": {"$lt": now}})
        return result.deleted_count


class Arrivals:
    """How many conferences were asked for each day: the rate the solver's forecast of pressure reads. One small
    document a day, counted once per conference planned."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._days = store.db[ARRIVALS]

    async def add(self, day: date) -> None:
        async with self._store.locked(ARRIVALS, day.isoformat()):
            await self._days.update_one({"_id": day.isoformat()}, {"$inc": {"count": 1}}, upsert=True)

    async def on(self, days: list[date]) -> list[int]:
        counted = {doc["_id"]: doc["count"] async for doc in self._days.find({"_id": {"$in": [d.isoformat() for d in days]}})}
        return [counted.get(day.isoformat(), 0) for day in days]
