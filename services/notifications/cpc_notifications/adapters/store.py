"""Notifications' own database: contact details sealed at rest, one document per message."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet
from pymongo.asynchronous.database import AsyncDatabase

CONTACTS = "contacts"
MESSAGES = "messages"
CONFERENCES = "conferences"
TIMERS = "timers"


async def prepare(db: AsyncDatabase) -> None:
    await db[MESSAGES].create_index("conference_id", name="by_conference")
    await db[TIMERS].create_index("due_at", name="by_due_time")


class ContactSeal:
    """Encrypts a person's contact details (name, e-mail, phone) so the store never holds them in clear."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def seal(self, contact: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(contact).encode()).decode()

    def open(self, sealed: str) -> dict[str, Any]:
        return json.loads(self._fernet.decrypt(sealed.encode()))
