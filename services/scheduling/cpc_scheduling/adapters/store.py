"""Scheduling's own database: one document per conference (its outbox inside it), and chairs' sessions.

A chair's session is one document whose `_id` is "<chair>|<day>|<HH:MM>": two conferences can never
hold the same chair at the same time, whatever replicas race for it. A session is first held for a
candidate slot, then booked when the room is; holds not confirmed expire.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic
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


@dataclass(frozen=True)
class KnownSession:
    """A chair's session as this process last knew it."""

    chair_id: str
    day: date
    at: time
    conference_id: str
    state: str  # "held" or "booked"
    room_id: str | None = None
    until: datetime | None = None  # a hold's expiry

    @classmethod
    def of(cls, doc: dict[str, Any]) -> KnownSession:
        return cls(doc["chair_id"], date.fromisoformat(doc["day"]), time.fromisoformat(doc["at"]),
                   doc["conference_id"], doc.get("state", "booked"), doc.get("room_id"), doc.get("until"))


class ChairSessions:
    """Chairs' sessions and absences. The store decides who holds a session (a hold is an insert of its `_id`);
    planning reads the diary for every conference, from a copy this process keeps: read whole at most every
    `refresh_seconds` (what other replicas wrote shows then; until then a session they took is found taken when
    held), with this process's own writes applied as it makes them. FerretDB reads the whole collection for a
    range, which was most of a request's time under load."""

    def __init__(self, store: DocumentStore, refresh_seconds: float = 15.0) -> None:
        self._store = store
        self._sessions = store.db[CHAIR_SESSIONS]
        self._absences = store.db[CHAIR_ABSENCES]
        self._forgotten_before: date | None = None
        self._refresh_seconds = refresh_seconds
        self._known: dict[str, KnownSession] = {}
        self._absent: list[dict[str, Any]] = []
        self._read_at: float | None = None
        self._written_while_reading: list[tuple[str, KnownSession | None]] | None = None
        self._reading = asyncio.Lock()

    async def _sessions_now(self) -> dict[str, KnownSession]:
        if self._fresh():
            return self._known
        async with self._reading:  # one read at a time (the consumers of two topics plan side by side)
            if self._fresh():
                return self._known
            began, self._written_while_reading = monotonic(), []
            try:
                known = {doc["_id"]: KnownSession.of(doc) async for doc in self._sessions.find({})}
                absent = await self._absences.find({}).to_list()
                for key, session in self._written_while_reading:  # this process's writes meanwhile: newer
                    _apply(known, key, session)
            finally:
                self._written_while_reading = None
            self._known, self._absent, self._read_at = known, absent, began
            return self._known

    def _fresh(self) -> bool:
        return self._read_at is not None and monotonic() - self._read_at < self._refresh_seconds

    def _learn(self, key: str, session: KnownSession | None) -> None:
        _apply(self._known, key, session)
        if self._written_while_reading is not None:
            self._written_while_reading.append((key, session))

    async def diary(self, first: date, last: date) -> ChairDiary:
        diary = ChairDiary()
        for session in (await self._sessions_now()).values():
            if first <= session.day <= last:
                diary.take(session.chair_id, session.day, session.at)
                if session.room_id:
                    diary.rooms.add((session.room_id, session.day, session.at))
        for absence in _overlapping(self._absent, first, last):
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
        self._read_at = None  # the next diary reads the store again
        return absence

    async def absences(self, first: date, last: date, chair_id: str | None = None) -> list[dict[str, Any]]:
        """Absences that overlap `first`..`last`, from the store (a small collection: read whole)."""
        return _overlapping(await self._absences.find({} if chair_id is None else {"chair_id": chair_id}).to_list(),
                            first, last)

    async def is_away(self, chair_id: str, day: date) -> bool:
        return bool(await self.absences(day, day, chair_id))

    async def move(self, conference_id: str, old: str | None, new_chair_id: str, session: str) -> bool:
        """Book another chair's session for a conference, then free the old one; False if that session is taken."""
        day, at = session.split("|")
        doc = {"_id": f"{new_chair_id}|{session}", "chair_id": new_chair_id, "day": day, "at": at,
               "conference_id": conference_id, "state": "booked"}
        try:
            await self._sessions.insert_one(doc)
            self._learn(doc["_id"], KnownSession.of(doc))
        except DuplicateKeyError:
            holder = await self._sessions.find_one({"_id": doc["_id"]})
            self._learn(doc["_id"], KnownSession.of(holder) if holder else None)
            if not holder or holder["conference_id"] != conference_id:
                return False
        if old:
            await self._let_go(conference_id, [old], {})
        return True

    async def hold(self, conference_id: str, candidates: list[Candidate], now: datetime, *, booked: bool = False
                   ) -> list[Candidate]:
        """Claim each candidate's chair session for this conference, all in one insert; returns the candidates that
        are ours (those already held by this conference too: a retry after a crash)."""
        wanted: dict[str, dict[str, Any]] = {}
        for candidate in candidates:
            day, at = candidate.session.split("|")
            wanted[candidate.key] = {"_id": candidate.key, "chair_id": candidate.chair_id, "day": day, "at": at,
                                     "conference_id": conference_id, "state": "booked" if booked else "held",
                                     "until": now + HOLD_FOR}
        if not wanted:
            return []
        taken = await self._store.insert_many(CHAIR_SESSIONS, list(wanted.values()))
        holders = {doc["_id"]: doc for doc in await self._store.find_ids(CHAIR_SESSIONS, list(taken))} if taken else {}
        ours = []
        for candidate in candidates:
            key = candidate.key
            if key not in taken:
                self._learn(key, KnownSession.of(wanted[key]))
                ours.append(candidate)
                continue
            holder = holders.get(key)
            self._learn(key, KnownSession.of(holder) if holder else None)
            if holder and holder["conference_id"] == conference_id:
                ours.append(candidate)
        return ours

    async def book(self, conference_id: str, chair_id: str, session: str, room_id: str | None = None,
                   others: Iterable[str] = ()) -> bool:
        """Turn this conference's hold into its booking (with the room booked for it); its `others` sessions ("<chair>|
        <day>|<HH:MM>": the rest of its holds, its earlier booking) go, where they are still its own."""
        key = f"{chair_id}|{session}"
        booked = await self._store.update_if(CHAIR_SESSIONS, key, {"conference_id": conference_id},
                                             {"$set": {"state": "booked", "room_id": room_id}, "$unset": {"until": ""}})
        if booked:
            day, at = session.split("|")
            self._learn(key, KnownSession(chair_id, date.fromisoformat(day), time.fromisoformat(at), conference_id,
                                          "booked", room_id))
        await self._let_go(conference_id, [other for other in others if other != key], {})
        return booked

    async def release_holds(self, conference_id: str, sessions: Iterable[str]) -> None:
        """Let go of those of `sessions` this conference holds but has not booked."""
        await self._let_go(conference_id, sessions, {"state": "held"})

    async def release(self, conference_id: str, sessions: Iterable[str]) -> None:
        """Let go of those of `sessions` this conference holds or has booked."""
        await self._let_go(conference_id, sessions, {})

    async def _let_go(self, conference_id: str, sessions: Iterable[str], expect: dict[str, Any]) -> None:
        # By `_id`, all in one call, never by conference: a query on another field reads the whole collection on
        # FerretDB. A hold a crash left unlisted expires (expire_holds).
        keys = list(dict.fromkeys(sessions))
        if not keys:
            return
        await self._store.delete_many_if(CHAIR_SESSIONS, keys, {"conference_id": conference_id, **expect})
        for key in keys:
            known = self._known.get(key)
            if known and known.conference_id == conference_id and all(
                    getattr(known, field) == value for field, value in expect.items()):
                self._learn(key, None)  # gone (one this process knew as another's, or not, shows at the next read)

    async def expire_holds(self, now: datetime) -> int:
        result = await self._sessions.delete_many({"state": "held", "until": {"$lt": now}})
        for key, session in list(self._known.items()):
            if session.state == "held" and session.until is not None and session.until < now:
                self._learn(key, None)
        return result.deleted_count

    async def forget_before(self, day: date) -> int:
        """Sessions of days gone: no plan reads them, and every read of the whole collection would. Once a day."""
        if self._forgotten_before is not None and day <= self._forgotten_before:
            return 0
        result = await self._sessions.delete_many({"day": {"$lt": day.isoformat()}})
        self._forgotten_before = day
        for key, session in list(self._known.items()):
            if session.day < day:
                self._learn(key, None)
        return result.deleted_count


def _apply(known: dict[str, KnownSession], key: str, session: KnownSession | None) -> None:
    if session is None:
        known.pop(key, None)
    else:
        known[key] = session


def _overlapping(absences: list[dict[str, Any]], first: date, last: date) -> list[dict[str, Any]]:
    return [a for a in absences if a["first_day"] <= last.isoformat() and a["last_day"] >= first.isoformat()]


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
