"""Scheduling's own database: one document per conference, its outbox inside it."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

CONFERENCES = "conferences"


async def prepare(db: AsyncDatabase) -> None:
    await db[CONFERENCES].create_index([("request_id", ASCENDING)], unique=True, name="one_conference_per_request")
    await db[CONFERENCES].create_index([("case_id", ASCENDING)], name="by_case")
