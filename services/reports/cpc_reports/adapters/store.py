"""Reports' own database: one document per report request (its outbox inside it), one per conference
(for completeness), and the uploaded files in GridFS."""

from __future__ import annotations

from gridfs import AsyncGridFSBucket
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

REPORTS = "reports"
CONFERENCES = "conferences"
ALERTS = "alerts"
FILES_BUCKET = "report_files"


async def prepare(db: AsyncDatabase) -> None:
    await db[REPORTS].create_index([("conference_id", ASCENDING)], name="by_conference")
    await db[REPORTS].create_index([("agency", ASCENDING)], name="by_agency")
    await db[REPORTS].create_index([("due_at", ASCENDING)], name="by_due_time")


def files(db: AsyncDatabase) -> AsyncGridFSBucket:
    return AsyncGridFSBucket(db, bucket_name=FILES_BUCKET)
