"""Notifications' own database: contact details sealed at rest, the conferences as last told, one document per
message and one per timer."""

from __future__ import annotations

from typing import Any

from cpc_shared.repository import DocumentStore
from pymongo.asynchronous.database import AsyncDatabase

from cpc_notifications.domain.notification import Notification, Timer

CONTACTS = "contacts"
MESSAGES = Notification.collection
CONFERENCES = "conferences"
TIMERS = Timer.collection


async def prepare(db: AsyncDatabase) -> None:
    await db[MESSAGES].create_index("conference_id", name="by_conference")
    await db[TIMERS].create_index("due_at", name="by_due_time")


class StoredKnown:
    """What notifications knows of cases (sealed contacts, language) and conferences (as last told to everyone).
    Kept from the events as they come; nothing here is published."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self.contacts, self.conferences = store.db[CONTACTS], store.db[CONFERENCES]

    async def case(self, case_id: str) -> dict[str, Any] | None:
        return await self.contacts.find_one({"_id": case_id})

    async def remember_case(self, case_id: str, fields: dict[str, Any]) -> None:
        async with self._store.locked(CONTACTS, case_id):
            await self.contacts.update_one({"_id": case_id}, {"$set": fields}, upsert=True)

    async def conference(self, conference_id: str) -> dict[str, Any] | None:
        return await self.conferences.find_one({"_id": conference_id})

    async def remember_conference(self, conference_id: str, fields: dict[str, Any]) -> None:
        async with self._store.locked(CONFERENCES, conference_id):
            await self.conferences.update_one({"_id": conference_id}, {"$set": fields}, upsert=True)
