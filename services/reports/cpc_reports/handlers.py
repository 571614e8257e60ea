"""The reports service layer: one handler per event or request, each loading report requests, applying a
transition and saving them through the repositories (which publish what they record).

    ConferenceScheduled /
    ConferenceRescheduled  -> conference_scheduled  (ReportRequested for each report wanted; ReportWithdrawn for
                                                     an agency no longer invited; ReportsComplete if that was all)
    ConferenceCancelled    -> conference_cancelled  (ReportWithdrawn)
    every few seconds      -> raise_alerts          (ReportOverdue, ReportEscalated: each once)
    POST a file            -> submit                (ReportSubmitted; ReportsComplete when it was the last)
    the family's form      -> family_form, save_family_views  (FamilyViewsReceived: ids only, never the words)
    the chair asks         -> family_views_for      (what the family wrote, opened for the chair)

Reads by id only where it matters: FerretDB 1.x on SQLite reads the whole collection for any other query, so
a conference's reports are read by the ids its `ConferenceReports` keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.clock import Clock
from cpc_shared.contracts.outbound import ConferenceArrangements, ConferenceCancelled
from cpc_shared.family_link import FamilyLinks
from cpc_shared.logging import get_logger
from cpc_shared.profile import Profile
from cpc_shared.repository import Repository, StaleWrite
from cpc_shared.sealing import Seal
from cpc_shared.timers import NextDue

from cpc_reports.domain.family_views import Answers, FamilyViews, Writer, answers_from, writer_for
from cpc_reports.domain.files import document_type
from cpc_reports.domain.report import (
    OPEN,
    Alert,
    ConferenceReports,
    Refused,
    ReportRequest,
    ReportStatus,
    ReportVersion,
)
from cpc_reports.domain.requests import due_times, reports_needed

log = get_logger(__name__)


class ReportFiles(Protocol):
    async def put(self, filename: str, content: bytes, metadata: dict[str, Any]) -> Any: ...
    async def read(self, file_id: Any) -> bytes: ...
    async def delete(self, file_id: Any) -> None: ...


@dataclass
class Reports:
    """What the handlers work with (wired by bootstrap.py; fakes in the service-layer tests)."""

    reports: Repository[ReportRequest]
    conferences: Repository[ConferenceReports]
    alerts: Repository[Alert]
    files: ReportFiles
    profile: Profile
    calendar: WorkingDayCalendar
    clock: Clock
    max_bytes: int
    family_views: Repository[FamilyViews]
    seal: Seal  # the family's words, sealed at rest with the contact key
    links: FamilyLinks
    next_due: NextDue = field(default_factory=NextDue)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.profile.timezone)


async def conference_scheduled(conference: ConferenceArrangements, desk: Reports) -> None:
    """Scheduled or rescheduled: every needed report requested, due where the council's policy puts it."""
    known = await desk.conferences.get(conference.conference_id)
    if known and known.has_seen(conference):
        return
    now = desk.clock.now()
    rules = desk.profile.policy_on(conference.starts_at.astimezone(desk.zone).date()).reports
    needs = reports_needed(conference.invitees)
    earlier = known.report_ids if known else []
    stored = await desk.reports.get_many(  # this conference's reports, wanted now or before, in one read
        [*(ReportRequest.id_for(conference.conference_id, needed.agency) for needed in needs), *earlier])
    wanted, asked = [], []
    for needed in needs:
        times = due_times(needed, conference.starts_at, conference.conference_type, rules, desk.calendar, desk.zone,
                          requested_at=now)
        desk.next_due.due(times.due_at, times.escalate_at)
        report = stored.get(ReportRequest.id_for(conference.conference_id, needed.agency))
        if report is None:
            report = ReportRequest.ask(conference, needed, times, now)
            asked.append(report)
        elif report.follow(conference, times, now):
            await desk.reports.save(report)
        wanted.append(report.id)
    if await desk.reports.add_many(asked):
        raise StaleWrite("a report of this conference was asked for meanwhile")
    for report in asked:
        log.info("report_requested", conference_id=conference.conference_id, report_id=report.id,
                 agency=report.agency)
    # An agency no longer invited is not asked for its report (one it has sent stays with the conference).
    dropped = [stored[report_id] for report_id in earlier if report_id in stored and report_id not in wanted
               and stored[report_id].status == ReportStatus.REQUESTED]
    for report in dropped:
        report.withdraw(now, why=f"dropped|v{conference.version}")
        await desk.reports.save(report)
    # The conference's version is saved last: a crash before this handles the event again, whole.
    if known is None:
        known = ConferenceReports.first(conference)
        known.scheduled(conference, wanted)
        if not await desk.conferences.add(known):
            raise StaleWrite(f"conference {conference.conference_id} was seen meanwhile")
    else:
        known.scheduled(conference, wanted)
        await desk.conferences.save(known)
    if dropped:  # the report still awaited may have been the dropped agency's
        await _check_complete(conference.conference_id, desk)


async def conference_cancelled(cancelled: ConferenceCancelled, desk: Reports) -> None:
    known = await desk.conferences.get(cancelled.conference_id)
    if known is None:
        return
    now = desk.clock.now()
    for report in await _reports_of(known, desk, OPEN):
        report.withdraw(now)
        await desk.reports.save(report)
    if known.status != "cancelled":
        known.cancelled()
        await desk.conferences.save(known)


async def raise_alerts(desk: Reports) -> int:
    """Every report past its due time and not in: one ReportOverdue each, exactly once; and a later
    escalation to the chair. Whichever replica adds an alert first raises it; the others find it there.
    Returns how many reports were found overdue now."""
    now = desk.clock.now()
    if not desk.next_due.time_to_look(now):
        return 0
    raised, upcoming = 0, []
    for report in await desk.reports.find({"status": ReportStatus.REQUESTED.value}):
        kinds = report.alerts_due(now)
        for kind in kinds:
            if await desk.alerts.add(Alert.raise_for(report, kind, now)):
                raised += kind == "overdue"
            report.alerted(kind, now)
        if kinds:
            try:
                await desk.reports.save(report)
            except StaleWrite:
                pass  # another replica marked it, or it changed: the alerts themselves are raised once anyway
        if (next_at := report.next_alert_at()) is not None:
            upcoming.append(next_at)
    desk.next_due.looked(upcoming)
    if raised:
        log.info("reports_overdue", count=raised)
    return raised


async def submit(report_id: str, agency: str, filename: str, content: bytes, by: str, desk: Reports) -> ReportVersion:
    """An agency sends its report (a PDF or Word file): the next version, late if after the due time."""
    report = await desk.reports.get(report_id)
    if report is None:
        raise Refused(404, f"no report request {report_id} for your agency")
    report.check_can_submit(agency)
    content_type = document_type(content, desk.max_bytes)
    filename = filename[-200:] or "report"
    file_id = await desk.files.put(filename, content, {"report_id": report_id, "content_type": content_type})
    version = report.submit(file_id=file_id, filename=filename, content_type=content_type, content=content, by=by,
                            now=desk.clock.now())
    try:
        await desk.reports.save(report)
    except StaleWrite:  # withdrawn or sent again meanwhile: keep nothing half-way
        await desk.files.delete(file_id)
        raise Refused(409, "the report changed while you were sending it; please send it again") from None
    await _check_complete(report.conference_id, desk)
    return version


async def read_version(report_id: str, version: int, desk: Reports) -> tuple[ReportVersion, bytes]:
    report = await desk.reports.get(report_id)
    entry = next((v for v in report.versions if v.version == version), None) if report else None
    if entry is None:
        raise Refused(404, f"no version {version} of report {report_id}")
    return entry, await desk.files.read(entry.file_id)


@dataclass(frozen=True)
class FamilyForm:
    """The form as its writer sees it: who they are here, their answers so far, and when it closes."""

    writer: Writer
    language: str
    answers: Answers
    saved_at: datetime | None


async def family_form(token: str, desk: Reports) -> FamilyForm:
    """The form behind a family's link, with what they saved before (BadLink, or Refused with a reason code)."""
    now = desk.clock.now()
    link = desk.links.read(token, now)
    writer = writer_for(await desk.conferences.get(link.conference_id), link.participant_id, desk.zone, now)
    views = await desk.family_views.get(FamilyViews.id_for(writer.conference_id, writer.participant_id))
    return FamilyForm(writer, link.language, desk.seal.open(views.sealed_answers) if views else {},
                      views.saved_at if views else None)


async def save_family_views(token: str, form: dict[str, str], desk: Reports) -> FamilyForm:
    """They save their answers (again): sealed, and announced without a word of them."""
    current = await family_form(token, desk)
    writer, now = current.writer, desk.clock.now()
    answers = answers_from(form, writer.role)
    sealed = desk.seal.seal(answers)
    views = await desk.family_views.get(FamilyViews.id_for(writer.conference_id, writer.participant_id))
    try:
        if views is None:
            views = FamilyViews.first(writer, sealed, now)
            if not await desk.family_views.add(views):
                raise StaleWrite("saved meanwhile")
        else:
            views.save(sealed, now)
            await desk.family_views.save(views)
    except StaleWrite:  # the same link saved twice at once (two tabs): the other one stands
        raise Refused(409, "changed_meanwhile") from None
    log.info("family_views_saved", conference_id=writer.conference_id, contribution_id=views.id, role=writer.role,
             version=views.version)
    return replace(current, answers=answers, saved_at=now)


async def family_views_for(conference_id: str, desk: Reports, *, opened: bool = True) -> list[dict[str, Any]]:
    """What each parent, carer and child invited wrote, opened for the conference team; parents first. Not
    `opened`: only who wrote and when (the dashboard's "in or not")."""
    conference = await desk.conferences.get(conference_id)
    found = (await desk.family_views.get_many(FamilyViews.id_for(conference_id, participant_id)
                                              for participant_id in (conference.family if conference else {}))).values()
    order = {"parent": 0, "carer": 1, "child": 2}
    return [{"participant_id": views.participant_id, "role": views.role, "saved_at": views.saved_at,
             "first_saved_at": views.first_saved_at, "version": views.version,
             **({"answers": desk.seal.open(views.sealed_answers)} if opened else {})}
            for views in sorted((v for v in found if v), key=lambda v: (order[v.role], v.participant_id))]


async def _check_complete(conference_id: str, desk: Reports) -> None:
    for _ in range(3):  # two last reports sent at once: one of them says it
        conference = await desk.conferences.get(conference_id)
        if conference is None or not conference.all_in(await _reports_of(conference, desk, OPEN), desk.clock.now()):
            return
        try:
            await desk.conferences.save(conference)
            return
        except StaleWrite:
            continue


async def _reports_of(conference: ConferenceReports | None, desk: Reports, statuses: tuple[ReportStatus, ...]
                      ) -> list[ReportRequest]:
    ids = conference.report_ids if conference else []
    found = await desk.reports.get_many(ids)
    return [found[report_id] for report_id in ids if report_id in found and found[report_id].status in statuses]
