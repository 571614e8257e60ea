"""The reports desk: asks for every report a conference needs, takes them in, and chases what is late.

Timers live in the store: each report carries its due time. Raising an alert is an insert whose id is
the report and its due time, so it happens exactly once however many replicas sweep (an insert is
atomic even on FerretDB), and a restarted replica simply sweeps again.
"""

from __future__ import annotations

import hashlib
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from cpc_reports.adapters.store import ALERTS, CONFERENCES, REPORTS, files
from cpc_reports.domain.files import document_type
from cpc_reports.domain.requests import due_times, reports_needed
from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.clock import Clock
from cpc_shared.contracts.outbound import (
    ConferenceScheduled,
    ReportEscalated,
    ReportOverdue,
    ReportRequested,
    ReportsComplete,
    ReportSubmitted,
    ReportWithdrawn,
)
from cpc_shared.envelope import event_id
from cpc_shared.logging import get_logger
from cpc_shared.outbox import OutboxRelay, outbox_entry
from cpc_shared.profile import Profile

log = get_logger(__name__)
OPEN = ("requested", "submitted")


class NotAllowed(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def report_id_for(conference_id: str, agency: str) -> str:
    return "RPT-" + event_id("report", conference_id, agency)[:13].upper().replace("-", "")


class ReportsDesk:
    def __init__(self, db: AsyncDatabase, profile: Profile, calendar: WorkingDayCalendar, clock: Clock,
                 relay: OutboxRelay, max_bytes: int) -> None:
        self.db = db
        self.reports = db[REPORTS]
        self.conferences = db[CONFERENCES]
        self.alerts = db[ALERTS]
        self.files = files(db)
        self.profile = profile
        self.calendar = calendar
        self.clock = clock
        self.relay = relay
        self.max_bytes = max_bytes
        self.zone = ZoneInfo(profile.timezone)

    # The conference's life -------------------------------------------------------------------

    async def conference_scheduled(self, conference: ConferenceScheduled) -> None:
        """Scheduled or rescheduled: every needed report requested, due times where the policy puts them."""
        known = await self.conferences.find_one({"_id": conference.conference_id}, {"version": 1})
        if known and known["version"] >= conference.version:
            return  # seen this version already
        await self.conferences.update_one({"_id": conference.conference_id}, {"$set": {
            "version": conference.version, "starts_at": conference.starts_at, "chair_id": conference.chair_id,
            "conference_type": conference.conference_type, "status": "scheduled"}}, upsert=True)
        now = self.clock.now()
        rules = self.profile.policy_on(conference.starts_at.astimezone(self.zone).date()).reports
        for needed in reports_needed(conference.invitees):
            times = due_times(needed, conference.starts_at, conference.conference_type, rules, self.calendar, self.zone)
            report_id = report_id_for(conference.conference_id, needed.agency)
            requested = ReportRequested(
                conference_id=conference.conference_id, report_id=report_id, agency=needed.agency,
                author_role=needed.author_role, due_at=times.due_at, share_with_family_by=times.share_with_family_by,
                conference_starts_at=conference.starts_at)
            timing = {"due_at": times.due_at, "share_with_family_by": times.share_with_family_by,
                      "escalate_at": times.escalate_at, "conference_starts_at": conference.starts_at,
                      "chair_id": conference.chair_id}
            try:
                await self.reports.insert_one({
                    "_id": report_id, "conference_id": conference.conference_id, "agency": needed.agency,
                    "author_role": needed.author_role, "status": "requested", "overdue_raised_at": None,
                    "escalated_at": None, "versions": [], **timing,
                    "outbox": [outbox_entry(requested, at=now, cause=f"{report_id}|v{conference.version}")]})
                log.info("report_requested", conference_id=conference.conference_id, report_id=report_id,
                         agency=needed.agency)
                continue
            except DuplicateKeyError:
                pass
            # Rescheduled: the due times move; an alert for the old time does not stand for the new one.
            moved_into_future = times.due_at > now
            await self.reports.update_one(
                {"_id": report_id, "status": {"$in": list(OPEN)}, "due_at": {"$ne": times.due_at}},
                {"$set": {**timing, **({"overdue_raised_at": None, "escalated_at": None} if moved_into_future else {})},
                 "$push": {"outbox": outbox_entry(requested, at=now, cause=f"{report_id}|v{conference.version}")}})
        self.relay.notify()

    async def conference_cancelled(self, conference_id: str) -> None:
        now = self.clock.now()
        for report in await self.reports.find({"conference_id": conference_id, "status": {"$in": list(OPEN)}}).to_list():
            withdrawn = ReportWithdrawn(conference_id=conference_id, report_id=report["_id"], agency=report["agency"],
                                        due_at=report["due_at"])
            await self.reports.update_one(
                {"_id": report["_id"], "status": report["status"]},
                {"$set": {"status": "withdrawn"}, "$push": {"outbox": outbox_entry(withdrawn, at=now, cause=f"{report['_id']}|withdrawn")}})
        await self.conferences.update_one({"_id": conference_id}, {"$set": {"status": "cancelled"}})
        self.relay.notify()

    # Timers ----------------------------------------------------------------------------------

    async def raise_overdue(self) -> int:
        """Every report past its due time and not in: one ReportOverdue each, exactly once; and a later
        escalation to the chair. Each alert is an insert with an id made of the report and its due time:
        whichever replica inserts first raises it, the others find it there."""
        raised = 0
        for kind, time_field, flag in (("overdue", "due_at", "overdue_raised_at"),
                                       ("escalated", "escalate_at", "escalated_at")):
            now = self.clock.now()
            for report in await self.reports.find({"status": "requested", time_field: {"$lte": now}, flag: None},
                                                  {"outbox": 0, "versions": 0}).to_list():
                fields = dict(conference_id=report["conference_id"], report_id=report["_id"],
                              agency=report["agency"], due_at=report["due_at"])
                alert = ReportOverdue(**fields) if kind == "overdue" else \
                    ReportEscalated(**fields, chair_id=report.get("chair_id"))
                alert_id = f"{kind}|{report['_id']}|{report['due_at'].isoformat()}"
                try:
                    await self.alerts.insert_one({"_id": alert_id, "report_id": report["_id"], "kind": kind, "at": now,
                                                  "outbox": [outbox_entry(alert, at=now, cause=alert_id)]})
                    raised += kind == "overdue"
                except DuplicateKeyError:
                    pass  # raised already, by this replica or another
                await self.reports.update_one({"_id": report["_id"], flag: None}, {"$set": {flag: now}})
        if raised:
            log.info("reports_overdue", count=raised)
            self.relay.notify()
        return raised

    # Submissions -----------------------------------------------------------------------------

    async def submit(self, report_id: str, agency: str, filename: str, content: bytes, by: str) -> dict[str, Any]:
        report = await self.reports.find_one({"_id": report_id})
        if report is None or report["agency"] != agency:
            raise NotAllowed(404, f"no report request {report_id} for your agency")
        if report["status"] == "withdrawn":
            raise NotAllowed(409, "this report is no longer needed: the conference was cancelled")
        content_type = document_type(content, self.max_bytes)
        now = self.clock.now()
        late = now > report["due_at"]
        file_id = await self.files.upload_from_stream(
            filename[-200:] or "report", content, metadata={"report_id": report_id, "content_type": content_type})
        version = len(report["versions"]) + 1
        submitted = ReportSubmitted(conference_id=report["conference_id"], report_id=report_id, agency=agency,
                                    due_at=report["due_at"], submitted_at=now, late=late, version=version)
        entry = {"version": version, "file_id": file_id, "filename": filename[-200:], "content_type": content_type,
                 "bytes": len(content), "sha256": hashlib.sha256(content).hexdigest(), "submitted_at": now,
                 "by": by, "late": late}
        result = await self.reports.update_one(
            {"_id": report_id, "status": {"$in": list(OPEN)}, "versions": {"$size": version - 1}},
            {"$set": {"status": "submitted", "late": late},
             "$push": {"versions": entry, "outbox": outbox_entry(submitted, at=now, cause=f"{report_id}|version-{version}")}})
        if not result.modified_count:  # withdrawn or replaced meanwhile: store nothing half-way
            await self.files.delete(file_id)
            raise NotAllowed(409, "the report changed while you were sending it; please send it again")
        await self._check_complete(report["conference_id"])
        self.relay.notify()
        return {"report_id": report_id, "version": version, "late": late, "content_type": content_type}

    async def _check_complete(self, conference_id: str) -> None:
        if await self.reports.count_documents({"conference_id": conference_id, "status": "requested"}):
            return
        ids = [r["_id"] async for r in self.reports.find({"conference_id": conference_id, "status": "submitted"},
                                                          {"_id": 1})]
        complete = ReportsComplete(conference_id=conference_id, report_ids=sorted(ids))
        await self.conferences.update_one(
            {"_id": conference_id, "complete": {"$ne": True}},
            {"$set": {"complete": True}, "$push": {"outbox": outbox_entry(complete, at=self.clock.now(),
                                                                          cause="complete")}})

    async def download(self, report_id: str, version: int) -> tuple[dict[str, Any], bytes]:
        report = await self.reports.find_one({"_id": report_id})
        entry = next((v for v in (report or {}).get("versions", []) if v["version"] == version), None)
        if entry is None:
            raise NotAllowed(404, f"no version {version} of report {report_id}")
        stream = await self.files.open_download_stream(entry["file_id"])
        return entry, await stream.read()
