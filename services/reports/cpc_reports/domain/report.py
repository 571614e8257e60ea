"""A report request: one agency's report for one conference, and what became of it.

    requested ──submit──> submitted ──submit again──> submitted (a new version; the earlier one kept)
        │                    │
        └──withdraw──────────┴──> withdrawn (the conference was cancelled, or the agency is no longer invited)
    withdrawn ──ask again──> requested (the agency is invited again)

While requested, the report is overdue once its due time passes and escalated to the chair once its
escalation time does: each alert is its own `Alert`, whose id names the report and the due time, so it is
raised once however many replicas look.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from cpc_shared.contracts.outbound import (
    FAMILY_WRITERS,
    ConferenceArrangements,
    ReportEscalated,
    ReportOverdue,
    ReportRequested,
    ReportsComplete,
    ReportSubmitted,
    ReportWithdrawn,
)
from cpc_shared.envelope import event_id
from cpc_shared.repository import Aggregate
from pydantic import BaseModel

from cpc_reports.domain.requests import DueTimes, ReportNeeded

AlertKind = Literal["overdue", "escalated"]
Standing = Literal["in", "late", "missing", "awaited"]


class ReportStatus(StrEnum):
    REQUESTED = "requested"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"


OPEN = (ReportStatus.REQUESTED, ReportStatus.SUBMITTED)


class Refused(Exception):
    """What an agency asked cannot be done to this report (an HTTP status and a reason it may read)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class ReportVersion(BaseModel):
    """One file an agency sent. `file_id` names it in the file store."""

    version: int
    file_id: Any
    filename: str
    content_type: str
    bytes: int
    sha256: str
    submitted_at: datetime
    by: str
    late: bool


class ReportRequest(Aggregate):
    collection: ClassVar[str] = "reports"

    conference_id: str
    agency: str
    author_role: str
    status: ReportStatus
    due_at: datetime
    share_with_family_by: datetime | None = None
    short_notice: bool = False
    escalate_at: datetime
    conference_starts_at: datetime
    chair_id: str | None = None
    overdue_raised_at: datetime | None = None
    escalated_at: datetime | None = None
    late: bool | None = None
    versions: list[ReportVersion] = []

    @staticmethod
    def id_for(conference_id: str, agency: str) -> str:
        return "RPT-" + event_id("report", conference_id, agency)[:13].upper().replace("-", "")

    @classmethod
    def ask(cls, conference: ConferenceArrangements, needed: ReportNeeded, times: DueTimes, now: datetime
            ) -> ReportRequest:
        report = cls(id=cls.id_for(conference.conference_id, needed.agency), conference_id=conference.conference_id,
                     agency=needed.agency, author_role=needed.author_role, status=ReportStatus.REQUESTED,
                     **_timing(conference, times))
        report._requested(conference, times, now)
        return report

    def follow(self, conference: ConferenceArrangements, times: DueTimes, now: datetime) -> bool:
        """The conference is (re)scheduled and still wants this report: asked for again if it was withdrawn;
        told the new due time if it moved (an alert for the old time does not stand for a new one ahead).
        True if anything changed."""
        if self.status == ReportStatus.WITHDRAWN:
            self.status, self.overdue_raised_at, self.escalated_at = ReportStatus.REQUESTED, None, None
        elif self.due_at == times.due_at:
            return False
        elif times.due_at > now:
            self.overdue_raised_at, self.escalated_at = None, None
        for field, value in _timing(conference, times).items():
            setattr(self, field, value)
        self._requested(conference, times, now)
        return True

    def _requested(self, conference: ConferenceArrangements, times: DueTimes, now: datetime) -> None:
        self.record(ReportRequested(
            conference_id=self.conference_id, report_id=self.id, agency=self.agency, author_role=self.author_role,
            due_at=times.due_at, share_with_family_by=times.share_with_family_by,
            conference_starts_at=conference.starts_at, short_notice=times.short_notice),
            at=now, cause=f"{self.id}|v{conference.version}")

    def withdraw(self, now: datetime, why: str = "withdrawn") -> None:
        """No longer needed. `why` tells this withdrawal from another of the same report (asked for again,
        then dropped again)."""
        if self.status == ReportStatus.WITHDRAWN:
            return
        self.status = ReportStatus.WITHDRAWN
        self.record(ReportWithdrawn(conference_id=self.conference_id, report_id=self.id, agency=self.agency,
                                    due_at=self.due_at), at=now, cause=f"{self.id}|{why}")

    def standing(self, now: datetime) -> Standing | None:
        """For the conference team's dashboard: in (on time), late (in after its due time), missing (not in and
        past its due time), awaited (not yet due); None once withdrawn."""
        if self.status == ReportStatus.WITHDRAWN:
            return None
        if self.status == ReportStatus.SUBMITTED:
            return "late" if self.late else "in"
        return "missing" if now > self.due_at else "awaited"

    def check_can_submit(self, agency: str) -> None:
        if agency != self.agency:
            raise Refused(404, f"no report request {self.id} for your agency")
        if self.status == ReportStatus.WITHDRAWN:
            raise Refused(409, "this report is no longer needed: the conference was cancelled")

    def submit(self, *, file_id: Any, filename: str, content_type: str, content: bytes, by: str, now: datetime
               ) -> ReportVersion:
        """A file is in: the next version (the earlier ones stay), late if after the due time."""
        self.check_can_submit(self.agency)
        version = ReportVersion(version=len(self.versions) + 1, file_id=file_id, filename=filename,
                                content_type=content_type, bytes=len(content),
                                sha256=hashlib.sha256(content).hexdigest(), submitted_at=now, by=by,
                                late=now > self.due_at)
        self.versions = [*self.versions, version]
        self.status, self.late = ReportStatus.SUBMITTED, version.late
        self.record(ReportSubmitted(conference_id=self.conference_id, report_id=self.id, agency=self.agency,
                                    due_at=self.due_at, submitted_at=now, late=version.late, version=version.version),
                    at=now, cause=f"{self.id}|version-{version.version}")
        return version

    def alerts_due(self, now: datetime) -> list[AlertKind]:
        """The alerts whose time has come and which this report has not yet raised."""
        if self.status != ReportStatus.REQUESTED:
            return []
        due: list[AlertKind] = []
        if self.overdue_raised_at is None and self.due_at <= now:
            due.append("overdue")
        if self.escalated_at is None and self.escalate_at <= now:
            due.append("escalated")
        return due

    def next_alert_at(self) -> datetime | None:
        if self.status != ReportStatus.REQUESTED:
            return None
        pending = [at for at, raised in ((self.due_at, self.overdue_raised_at), (self.escalate_at, self.escalated_at))
                   if raised is None]
        return min(pending, default=None)

    def alerted(self, kind: AlertKind, now: datetime) -> None:
        if kind == "overdue":
            self.overdue_raised_at = now
        else:
            self.escalated_at = now


def _timing(conference: ConferenceArrangements, times: DueTimes) -> dict[str, Any]:
    return {"due_at": times.due_at, "share_with_family_by": times.share_with_family_by,
            "short_notice": times.short_notice, "escalate_at": times.escalate_at,
            "conference_starts_at": conference.starts_at, "chair_id": conference.chair_id}


class Alert(Aggregate):
    """A report overdue, or escalated to the chair: raised once for the report and its due time."""

    collection: ClassVar[str] = "alerts"

    report_id: str
    kind: AlertKind
    at: datetime

    @classmethod
    def raise_for(cls, report: ReportRequest, kind: AlertKind, now: datetime) -> Alert:
        alert_id = f"{kind}|{report.id}|{report.due_at.isoformat()}"
        alert = cls(id=alert_id, report_id=report.id, kind=kind, at=now)
        fields = dict(conference_id=report.conference_id, report_id=report.id, agency=report.agency,
                      due_at=report.due_at)
        event = ReportOverdue(**fields) if kind == "overdue" else ReportEscalated(**fields, chair_id=report.chair_id)
        alert.record(event, at=now, cause=alert_id)
        return alert


class ConferenceReports(Aggregate):
    """A conference as reports sees it: the version last handled, and the reports it has asked for."""

    collection: ClassVar[str] = "conferences"

    conference_version: int
    starts_at: datetime
    chair_id: str | None = None
    conference_type: str
    status: Literal["scheduled", "cancelled"] = "scheduled"
    report_ids: list[str] = []
    complete: bool = False
    family: dict[str, str] = {}  # the parents, carers and children invited, by participant id: their role


    @classmethod
    def first(cls, conference: ConferenceArrangements) -> ConferenceReports:
        return cls(id=conference.conference_id, conference_version=conference.version, starts_at=conference.starts_at,
                   chair_id=conference.chair_id, conference_type=conference.conference_type)

    def has_seen(self, conference: ConferenceArrangements) -> bool:
        return self.conference_version >= conference.version

    def scheduled(self, conference: ConferenceArrangements, report_ids: list[str]) -> None:
        self.conference_version, self.starts_at = conference.version, conference.starts_at
        self.chair_id, self.conference_type, self.status = conference.chair_id, conference.conference_type, "scheduled"
        self.family = {i.participant_id: i.role for i in conference.invitees if i.role in FAMILY_WRITERS}
        self.report_ids = [*self.report_ids, *(r for r in report_ids if r not in self.report_ids)]

    def cancelled(self) -> None:
        self.status = "cancelled"

    def all_in(self, open_reports: list[ReportRequest], now: datetime) -> bool:
        """Every report still wanted is in: ReportsComplete, once. True if it is said now."""
        if self.complete or not open_reports or any(r.status == ReportStatus.REQUESTED for r in open_reports):
            return False
        self.complete = True
        self.record(ReportsComplete(conference_id=self.id, report_ids=sorted(r.id for r in open_reports)),
                    at=now, cause="complete")
        return True
