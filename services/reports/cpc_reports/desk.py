"""The reports desk: asks for every report a conference needs, takes them in, and chases what is late.

Timers live in the store: each report carries its due time. Raising an alert is an insert whose id is
the report and its due time, so it happens exactly once however many replicas sweep (an insert is
atomic even on FerretDB), and a restarted replica simply sweeps again. A replica remembers the next due
time it knows of and sweeps when it comes (or a minute has passed, for other replicas' requests), and
reads a conference's reports by their ids: FerretDB 1.x on SQLite reads the whole collection for any
query but one by `_id`.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.clock import Clock
from cpc_shared.contracts.outbound import (
    ConferenceArrangements,
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
from cpc_shared.store import update_where
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from cpc_reports.adapters.store import ALERTS, CONFERENCES, REPORTS, files
from cpc_reports.domain.files import document_type
from cpc_reports.domain.requests import due_times, reports_needed

log = get_logger(__name__)
OPEN = ("requested", "submitted")
ALERTS_RAISED = (("overdue", "due_at", "overdue_raised_at"), ("escalated", "escalate_at", "escalated_at"))
LOOK_AGAIN_SECONDS = 60.0
NOTHING_DUE = datetime.max.replace(tzinfo=UTC)


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
        self._next_due: datetime | None = None  # None: not known, sweep
        self._look_again = 0.0

    # The conference's life -------------------------------------------------------------------

    async def conference_scheduled(self, conference: ConferenceArrangements) -> None:
        """Scheduled or rescheduled: every needed report requested, due times where the policy puts them."""
        known = await self.conferences.find_one({"_id": conference.conference_id}, {"version": 1})
        if known and known["version"] >= conference.version:
            return  # seen this version already
        now = self.clock.now()
        report_ids = []
        rules = self.profile.policy_on(conference.starts_at.astimezone(self.zone).date()).reports
        for needed in reports_needed(conference.invitees):
            times = due_times(needed, conference.starts_at, conference.conference_type, rules, self.calendar, self.zone,
                              requested_at=now)
            report_id = report_id_for(conference.conference_id, needed.agency)
            report_ids.append(report_id)
            self._due(times.due_at, times.escalate_at)
            requested = ReportRequested(
                conference_id=conference.conference_id, report_id=report_id, agency=needed.agency,
                author_role=needed.author_role, due_at=times.due_at, share_with_family_by=times.share_with_family_by,
                conference_starts_at=conference.starts_at, short_notice=times.short_notice)
            timing = {"due_at": times.due_at, "share_with_family_by": times.share_with_family_by,
                      "short_notice": times.short_notice,
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
            # The agency was dropped from the conference and is invited again: its report is asked for again.
            if await update_where(self.reports, report_id, {"status": "withdrawn"}, {
                    "$set": {**timing, "status": "requested", "overdue_raised_at": None, "escalated_at": None},
                    "$push": {"outbox": outbox_entry(requested, at=now, cause=f"{report_id}|v{conference.version}")}}):
                continue
            # Rescheduled: the due times move; an alert for the old time does not stand for the new one.
            moved_into_future = times.due_at > now
            await update_where(self.reports, report_id, {"status": {"$in": list(OPEN)}, "due_at": {"$ne": times.due_at}}, {
                "$set": {**timing, **({"overdue_raised_at": None, "escalated_at": None} if moved_into_future else {})},
                "$push": {"outbox": outbox_entry(requested, at=now, cause=f"{report_id}|v{conference.version}")}})
        # An agency no longer invited is not asked for its report (one it has sent stays with the conference).
        dropped = [report for report in await self._reports_of(conference.conference_id, ("requested",))
                   if report["_id"] not in report_ids]
        for report in dropped:
            await self._withdraw(report, now, why=f"dropped|v{conference.version}")
        # The version is recorded last: a crash before this handles the event again, whole.
        await self.conferences.update_one({"_id": conference.conference_id}, {
            "$set": {"version": conference.version, "starts_at": conference.starts_at, "chair_id": conference.chair_id,
                     "conference_type": conference.conference_type, "status": "scheduled"},
            "$addToSet": {"report_ids": {"$each": report_ids}}}, upsert=True)
        self.relay.notify(self.reports.name, *report_ids)
        if dropped:  # the report still awaited may have been the dropped agency's
            await self._check_complete(conference.conference_id)

    async def _reports_of(self, conference_id: str, statuses: tuple[str, ...]) -> list[dict[str, Any]]:
        known = await self.conferences.find_one({"_id": conference_id}, {"report_ids": 1})
        found = [await self.reports.find_one({"_id": report_id}, {"outbox": 0, "versions": 0})
                 for report_id in (known or {}).get("report_ids", [])]
        return [report for report in found if report and report["status"] in statuses]

    def _due(self, *times: datetime | None) -> None:
        """A report now falls due at these times: the next sweep comes no later."""
        if self._next_due is not None:
            self._next_due = min([self._next_due, *(t for t in times if t is not None)])

    async def conference_cancelled(self, conference_id: str) -> None:
        now = self.clock.now()
        for report in await self._reports_of(conference_id, OPEN):
            await self._withdraw(report, now)
        await self.conferences.update_one({"_id": conference_id}, {"$set": {"status": "cancelled"}})

    async def _withdraw(self, report: dict[str, Any], now: datetime, why: str = "withdrawn") -> None:
        """`why` tells this withdrawal's event from another of the same report (asked for again, then dropped)."""
        withdrawn = ReportWithdrawn(conference_id=report["conference_id"], report_id=report["_id"],
                                    agency=report["agency"], due_at=report["due_at"])
        cause = f"{report['_id']}|{why}"
        await update_where(self.reports, report["_id"], {"status": report["status"]}, {
            "$set": {"status": "withdrawn"}, "$push": {"outbox": outbox_entry(withdrawn, at=now, cause=cause)}})
        self.relay.notify(self.reports.name, report["_id"])

    # Timers ----------------------------------------------------------------------------------

    async def raise_overdue(self) -> int:
        """Every report past its due time and not in: one ReportOverdue each, exactly once; and a later
        escalation to the chair. Each alert is an insert with an id made of the report and its due time:
        whichever replica inserts first raises it, the others find it there."""
        now = self.clock.now()
        if self._next_due is not None and now < self._next_due and time.monotonic() < self._look_again:
            return 0
        self._next_due, self._look_again = None, time.monotonic() + LOOK_AGAIN_SECONDS
        raised, upcoming, alert_ids = 0, [NOTHING_DUE], []
        for report in await self.reports.find({"status": "requested"}, {"outbox": 0, "versions": 0}).to_list():
            for kind, time_field, flag in ALERTS_RAISED:
                if report.get(flag) is not None or report.get(time_field) is None:
                    continue
                if report[time_field] > now:
                    upcoming.append(report[time_field])
                    continue
                fields = dict(conference_id=report["conference_id"], report_id=report["_id"],
                              agency=report["agency"], due_at=report["due_at"])
                alert = ReportOverdue(**fields) if kind == "overdue" else \
                    ReportEscalated(**fields, chair_id=report.get("chair_id"))
                alert_id = f"{kind}|{report['_id']}|{report['due_at'].isoformat()}"
                try:
                    await self.alerts.insert_one({"_id": alert_id, "report_id": report["_id"], "kind": kind, "at": now,
                                                  "outbox": [outbox_entry(alert, at=now, cause=alert_id)]})
                    raised += kind == "overdue"
                    alert_ids.append(alert_id)
                except DuplicateKeyError:
                    pass  # raised already, by this replica or another
                await update_where(self.reports, report["_id"], {flag: None}, {"$set": {flag: now}})
        self._next_due = min(upcoming)
        if raised:
            log.info("reports_overdue", count=raised)
        if alert_ids:
            self.relay.notify(self.alerts.name, *alert_ids)
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
        updated = await update_where(
            self.reports, report_id, {"status": {"$in": list(OPEN)}, "versions": {"$size": version - 1}},
            {"$set": {"status": "submitted", "late": late},
             "$push": {"versions": entry, "outbox": outbox_entry(submitted, at=now, cause=f"{report_id}|version-{version}")}})
        if not updated:  # withdrawn or replaced meanwhile: store nothing half-way
            await self.files.delete(file_id)
            raise NotAllowed(409, "the report changed while you were sending it; please send it again")
        self.relay.notify(self.reports.name, report_id)
        await self._check_complete(report["conference_id"])
        return {"report_id": report_id, "version": version, "late": late, "content_type": content_type}

    async def _check_complete(self, conference_id: str) -> None:
        reports = await self._reports_of(conference_id, OPEN)
        if not reports or any(report["status"] == "requested" for report in reports):
            return
        complete = ReportsComplete(conference_id=conference_id, report_ids=sorted(r["_id"] for r in reports))
        await update_where(self.conferences, conference_id, {"complete": {"$ne": True}}, {
            "$set": {"complete": True}, "$push": {"outbox": outbox_entry(complete, at=self.clock.now(), cause="complete")}})
        self.relay.notify(self.conferences.name, conference_id)

    async def download(self, report_id: str, version: int) -> tuple[dict[str, Any], bytes]:
        report = await self.reports.find_one({"_id": report_id})
        entry = next((v for v in (report or {}).get("versions", []) if v["version"] == version), None)
        if entry is None:
            raise NotAllowed(404, f"no version {version} of report {report_id}")
        stream = await self.files.open_download_stream(entry["file_id"])
        return entry, await stream.read()
