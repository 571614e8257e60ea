"""The reports service layer on in-memory fakes: what each event and submission does to report requests, and
what is published."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cpc_reports import handlers
from cpc_reports.domain.report import Refused, ReportRequest, ReportStatus
from cpc_reports.handlers import Reports
from cpc_shared.contracts.outbound import ConferenceCancelled, ConferenceScheduled, Invitee
from cpc_shared.fakes import InMemoryStore
from cpc_shared.profile import load_profile

PROFILE = load_profile(Path(__file__).resolve().parents[3] / "profiles" / "essex-2020.yaml")
LONDON = ZoneInfo("Europe/London")
PDF = b"%PDF-1.7 the report"


def scheduled(version: int = 1, conference_id: str = "CPC-1", starts_at: datetime | None = None,
              agencies: tuple[str, ...] = ("health", "police")) -> ConferenceScheduled:
    starts_at = starts_at or datetime(2020, 4, 8, 9, 30, tzinfo=LONDON)
    invitees = [Invitee(participant_id="SW", role="social_worker", agency="childrens_social_care"),
                *(Invitee(participant_id=agency, role="professional", agency=agency) for agency in agencies)]
    return ConferenceScheduled(
        conference_id=conference_id, case_id="C", request_id="R", conference_type="initial", starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2), statutory_deadline=starts_at.date(), within_timescale=True,
        attendance_mode="virtual", office_id=None, room_id=None, chair_id="CHAIR-1", version=version, invitees=invitees)


def published(desk: Reports, collection: str = "reports") -> list[str]:
    store = desk.reports.store
    assert isinstance(store, InMemoryStore)
    return [entry["type"].split(".")[1] for entry in store.outbox(collection)]


async def report_of(desk: Reports, agency: str, conference_id: str = "CPC-1") -> ReportRequest:
    report = await desk.reports.get(ReportRequest.id_for(conference_id, agency))
    assert report is not None
    return report


async def test_a_scheduled_conference_asks_each_agency_once_with_its_due_time(desk):
    await handlers.conference_scheduled(scheduled(), desk)
    await handlers.conference_scheduled(scheduled(), desk)  # redelivered
    assert published(desk) == ["ReportRequested"] * 3
    police = await report_of(desk, "police")
    # Essex 2020: partners' reports 48 hours before, the clock stopped at the weekend.
    assert police.status == ReportStatus.REQUESTED and police.due_at == datetime(2020, 4, 6, 9, 30, tzinfo=LONDON)
    conference = await desk.conferences.get("CPC-1")
    assert conference is not None and sorted(conference.report_ids) == sorted(
        ReportRequest.id_for("CPC-1", a) for a in ("childrens_social_care", "health", "police"))


async def test_rescheduling_moves_due_times_and_an_agency_no_longer_invited_is_withdrawn(desk):
    await handlers.conference_scheduled(scheduled(), desk)
    later = scheduled(version=2, starts_at=datetime(2020, 4, 15, 9, 30, tzinfo=LONDON), agencies=("health",))
    await handlers.conference_scheduled(later, desk)
    health, police = await report_of(desk, "health"), await report_of(desk, "police")
    assert health.due_at == datetime(2020, 4, 9, 9, 30, tzinfo=LONDON)  # Easter stops the clock
    assert police.status == ReportStatus.WITHDRAWN
    assert sorted(published(desk)) == sorted(["ReportRequested"] * 5 + ["ReportWithdrawn"])

    await handlers.conference_scheduled(scheduled(version=3, starts_at=later.starts_at), desk)  # police again
    assert (await report_of(desk, "police")).status == ReportStatus.REQUESTED


async def test_a_missing_report_is_overdue_once_then_escalated_once(desk):
    await handlers.conference_scheduled(scheduled(), desk)
    assert await handlers.raise_alerts(desk) == 0
    desk.clock.set(datetime(2020, 4, 6, 9, 31, tzinfo=LONDON))
    assert await handlers.raise_alerts(desk) == 3
    assert await handlers.raise_alerts(desk) == 0
    desk.clock.set(datetime(2020, 4, 7, 9, 31, tzinfo=LONDON))
    await handlers.raise_alerts(desk)
    assert published(desk, "alerts") == ["ReportOverdue"] * 3 + ["ReportEscalated"] * 3


async def test_sending_the_last_report_completes_the_conference_and_a_withdrawn_one_is_refused(desk):
    await handlers.conference_scheduled(scheduled(agencies=("police",)), desk)
    first = await handlers.submit(ReportRequest.id_for("CPC-1", "childrens_social_care"), "childrens_social_care",
                                  "sw.pdf", PDF, "sw-1", desk)
    assert first.version == 1 and not first.late and published(desk, "conferences") == []
    police_id = ReportRequest.id_for("CPC-1", "police")
    with pytest.raises(Refused) as wrong_agency:
        await handlers.submit(police_id, "health", "p.pdf", PDF, "nurse-1", desk)
    assert wrong_agency.value.status == 404
    await handlers.submit(police_id, "police", "p.pdf", PDF, "officer-1", desk)
    again = await handlers.submit(police_id, "police", "p2.pdf", PDF + b" corrected", "officer-1", desk)
    assert again.version == 2
    assert published(desk, "conferences") == ["ReportsComplete"]
    entry, content = await handlers.read_version(police_id, 1, desk)
    assert content == PDF and entry.filename == "p.pdf"

    await handlers.conference_cancelled(ConferenceCancelled(conference_id="CPC-1", case_id="C",
                                                            reason="cancelled_by_council"), desk)
    with pytest.raises(Refused) as withdrawn:
        await handlers.submit(police_id, "police", "p3.pdf", PDF, "officer-1", desk)
    assert withdrawn.value.status == 409
    assert published(desk).count("ReportWithdrawn") == 2  # both submitted reports; none was still requested
