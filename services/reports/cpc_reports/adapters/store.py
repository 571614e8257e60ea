"""Reports' own database: one document per report request (its outbox inside it), one per conference
(the reports it asked for, the family invited, and whether all are in), one per alert raised, one per family
member's views (sealed), and the uploaded files in GridFS."""

from __future__ import annotations

from typing import Any

from gridfs import AsyncGridFSBucket
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from cpc_reports.domain.family_views import FamilyViews
from cpc_reports.domain.report import Alert, ConferenceReports, ReportRequest

REPORTS = ReportRequest.collection
CONFERENCES = ConferenceReports.collection
ALERTS = Alert.collection
FAMILY_VIEWS = FamilyViews.collection  # the family's words sealed in `sealed_answers`, never in clear
FILES_BUCKET = "report_files"


async def prepare(db: AsyncDatabase) -> None:
    await db[REPORTS].create_index([("conference_id", ASCENDING)], name="by_conference")
    await db[REPORTS].create_index([("agency", ASCENDING)], name="by_agency")
    await db[REPORTS].create_index([("due_at", ASCENDING)], name="by_due_time")


class GridFsFiles:
    """Report files in GridFS, beside the requests."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.bucket = AsyncGridFSBucket(db, bucket_name=FILES_BUCKET)

    async def put(self, filename: str, content: bytes, metadata: dict[str, Any]) -> Any:
        return await self.bucket.upload_from_stream(filename, content, metadata=metadata)

    async def read(self, file_id: Any) -> bytes:
        stream = await self.bucket.open_download_stream(file_id)
        return await stream.read()

    async def delete(self, file_id: Any) -> None:
        await self.bucket.delete(file_id)
