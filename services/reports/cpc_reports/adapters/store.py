"""Reports' own database: one document per report request, its outbox inside it."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

REPORTS = "reports"


async def prepare(db: AsyncDatabase) -> None:
    await db[REPORTS].create_index([("conference_id", ASCENDING)], name="by_conference")
