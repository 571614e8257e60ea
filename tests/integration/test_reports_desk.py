"""The reports service's handlers on the real store: due times under both seed profiles, overdue alerts exactly once
however many replicas sweep, due times that move, and requests withdrawn."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cpc_reports import handlers
from cpc_reports.adapters.store import GridFsFiles, prepare
from cpc_reports.domain.family_views import FamilyViews
from cpc_reports.domain.report import Alert, ConferenceReports, Refused, ReportRequest
from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.clock import FixedClock
from cpc_shared.contracts.outbound import ConferenceCancelled, ConferenceScheduled, Invitee
from cpc_shared.fakes import RecordingRelay
from cpc_shared.family_link import FamilyLink, FamilyLinks
from cpc_shared.profile import load_profile
from cpc_shared.repository import DocumentStore, Repository
from cpc_shared.sealing import Seal
from cpc_shared.settings import ServiceSettings
from cpc_shared.store import connect
from cryptography.fernet import Fernet

PROFILES = Path(__file__).resolve().parents[2] / "profiles"
LONDON = ZoneInfo("Europe/London")
KEY = Fernet.generate_key().decode()


def scheduled(starts_at: datetime, version: int = 1, conference_id: str | None = None, **fields) -> ConferenceScheduled:
    return ConferenceScheduled(
        conference_id=conference_id or f"CPC-{uuid.uuid4().hex[:8]}", case_id="C", request_id="R",
        conference_type=fields.pop("conference_type", "initial"), starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2), statutory_deadline=starts_at.date(), within_timescale=True,
        attendance_mode="virtual", office_id=None, room_id=None, chair_id="CHAIR-1", version=version,
        invitees=[Invitee(participant_id="1", role="social_worker", agency="childrens_social_care"),
                  Invitee(participant_id="2", role="professional", agency="health"),
                  Invitee(participant_id="3", role="professional", agency="police")], **fields)


async def desks(stack, profile_name: str, clock, replicas: int = 1):
    settings = ServiceSettings(mongodb_url=stack.mongodb, database_prefix=f"cpc_desk_{uuid.uuid4().hex[:8]}")
    client, db = connect(settings, "reports")
    await prepare(db)
    profile = load_profile(PROFILES / profile_name)
    made = [Desk(db, profile, clock) for _ in range(replicas)]
    return client, db, made


class Desk:
    """One replica of the reports service: its own store adapter (and locks), the handlers' calls by name."""

    def __init__(self, db, profile, clock) -> None:
        store = DocumentStore(db, "ferretdb1")
        self.reports = handlers.Reports(
            reports=Repository(store, ReportRequest, RecordingRelay()), conferences=Repository(store, ConferenceReports, RecordingRelay()),
            alerts=Repository(store, Alert, RecordingRelay()), files=GridFsFiles(db), profile=profile,
            calendar=WorkingDayCalendar(), clock=clock, max_bytes=1024 * 1024,
            family_views=Repository(store, FamilyViews, RecordingRelay()), seal=Seal(KEY), links=FamilyLinks(KEY))

    async def conference_scheduled(self, conference: ConferenceScheduled) -> None:
        await handlers.conference_scheduled(conference, self.reports)

    async def conference_cancelled(self, conference_id: str) -> None:
        await handlers.conference_cancelled(
            ConferenceCancelled(conference_id=conference_id, case_id="C", reason="cancelled_by_council"), self.reports)

    async def raise_overdue(self) -> int:
        return await handlers.raise_alerts(self.reports)

    async def submit(self, report_id: str, agency: str, filename: str, content: bytes, by: str) -> dict:
        version = await handlers.submit(report_id, agency, filename, content, by, self.reports)
        return {"version": version.version, "late": version.late}


def events(report: dict, event_type: str) -> list[dict]:
    return [e for e in report["outbox"] if e["type"] == event_type]


async def test_essex_2020_asks_every_agency_for_its_report_48_hours_before(stack):
    clock = FixedClock(datetime(2020, 4, 1, 9, 0, tzinfo=UTC))
    client, db, (desk,) = await desks(stack, "essex-2020.yaml", clock)
    try:
        conference = scheduled(datetime(2020, 4, 8, 9, 30, tzinfo=LONDON))
        await desk.conference_scheduled(conference)
        reports = {r["agency"]: r async for r in db["reports"].find({"conference_id": conference.conference_id})}
        assert set(reports) == {"childrens_social_care", "health", "police"}
        assert reports["police"]["due_at"] == datetime(2020, 4, 6, 9, 30, tzinfo=LONDON)
        assert reports["childrens_social_care"]["share_with_family_by"] == datetime(2020, 4, 6, 9, 30, tzinfo=LONDON)
        assert all(len(events(r, "cpc.ReportRequested.v1")) == 1 for r in reports.values())
        # One event id per report: consumers dedupe by id, so a shared id would drop all but one request.
        assert len({events(r, "cpc.ReportRequested.v1")[0]["id"] for r in reports.values()}) == 3
    finally:
        await client.close()


async def test_gloucestershire_asks_three_working_days_before_an_initial_and_five_before_a_review(stack):
    clock = FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    client, db, (desk,) = await desks(stack, "gloucestershire-2022.yaml", clock)
    try:
        initial = scheduled(datetime(2026, 12, 30, 13, 30, tzinfo=LONDON))
        review = scheduled(datetime(2026, 12, 30, 9, 30, tzinfo=LONDON), conference_type="review")
        await desk.conference_scheduled(initial)
        await desk.conference_scheduled(review)
        police = {r["conference_id"]: r async for r in db["reports"].find({"agency": "police"})}
        assert police[initial.conference_id]["due_at"] == datetime(2026, 12, 23, 13, 30, tzinfo=LONDON)
        assert police[review.conference_id]["due_at"] == datetime(2026, 12, 21, 9, 30, tzinfo=LONDON)
    finally:
        await client.close()


async def test_a_missing_report_is_overdue_exactly_once_however_many_replicas_sweep(stack):
    clock = FixedClock(datetime(2020, 4, 1, 9, 0, tzinfo=UTC))
    client, db, replicas = await desks(stack, "essex-2020.yaml", clock, replicas=3)
    try:
        conferences = [scheduled(datetime(2020, 4, 8, 9, 30, tzinfo=LONDON)) for _ in range(10)]
        for conference in conferences:
            await replicas[0].conference_scheduled(conference)
        assert sum(await asyncio.gather(*(desk.raise_overdue() for desk in replicas))) == 0
        clock.set(datetime(2020, 4, 6, 9, 31, tzinfo=LONDON))
        raised = await asyncio.gather(*(desk.raise_overdue() for desk in replicas * 2))
        assert sum(raised) == 30
        async for report in db["reports"].find({}):
            alerts = [a async for a in db["alerts"].find({"report_id": report["_id"], "kind": "overdue"})]
            assert [events(a, "cpc.ReportOverdue.v1")[0]["data"]["report_id"] for a in alerts] == [report["_id"]]
        assert sum(await asyncio.gather(*(desk.raise_overdue() for desk in replicas))) == 0
    finally:
        await client.close()


async def test_rescheduling_moves_due_times_and_a_new_alert_can_follow_cancelling_withdraws(stack):
    clock = FixedClock(datetime(2020, 4, 1, 9, 0, tzinfo=UTC))
    client, db, (desk,) = await desks(stack, "essex-2020.yaml", clock)
    try:
        conference = scheduled(datetime(2020, 4, 8, 9, 30, tzinfo=LONDON))
        await desk.conference_scheduled(conference)
        clock.set(datetime(2020, 4, 6, 10, 0, tzinfo=LONDON))
        assert await desk.raise_overdue() == 3
        later = scheduled(datetime(2020, 4, 15, 9, 30, tzinfo=LONDON), version=2, conference_id=conference.conference_id)
        await desk.conference_scheduled(later)
        await desk.conference_scheduled(later)  # redelivered: nothing new
        police = await db["reports"].find_one({"conference_id": conference.conference_id, "agency": "police"})
        # 48 hours before Wednesday 15 April, the clock stopped over Easter (Good Friday to Easter Monday).
        assert police["due_at"] == datetime(2020, 4, 9, 9, 30, tzinfo=LONDON) and police["overdue_raised_at"] is None
        assert len(events(police, "cpc.ReportRequested.v1")) == 2
        clock.set(datetime(2020, 4, 13, 10, 0, tzinfo=LONDON))
        assert await desk.raise_overdue() == 3
        await desk.conference_cancelled(conference.conference_id)
        clock.set(datetime(2020, 4, 20, 10, 0, tzinfo=LONDON))
        assert await desk.raise_overdue() == 0
        police = await db["reports"].find_one({"_id": police["_id"]})
        assert police["status"] == "withdrawn" and len(events(police, "cpc.ReportWithdrawn.v1")) == 1
        assert await db["alerts"].count_documents({"report_id": police["_id"], "kind": "overdue"}) == 2
    finally:
        await client.close()


async def test_a_report_still_missing_a_day_after_it_was_due_is_escalated_to_the_chair_once(stack):
    clock = FixedClock(datetime(2020, 4, 1, 9, 0, tzinfo=UTC))
    client, db, replicas = await desks(stack, "essex-2020.yaml", clock, replicas=2)
    try:
        conference = scheduled(datetime(2020, 4, 8, 9, 30, tzinfo=LONDON))
        await replicas[0].conference_scheduled(conference)
        clock.set(datetime(2020, 4, 7, 9, 0, tzinfo=LONDON))  # 23.5 hours after the due time: overdue only
        await asyncio.gather(*(desk.raise_overdue() for desk in replicas))
        assert await db["alerts"].count_documents({"kind": "escalated"}) == 0
        clock.set(datetime(2020, 4, 7, 9, 31, tzinfo=LONDON))
        await asyncio.gather(*(desk.raise_overdue() for desk in replicas * 2))
        escalations = [a async for a in db["alerts"].find({"kind": "escalated"})]
        assert len(escalations) == 3
        assert {a["outbox"][0]["data"]["chair_id"] for a in escalations} == {"CHAIR-1"}
    finally:
        await client.close()


async def test_a_late_report_is_accepted_and_marked_late(stack):
    clock = FixedClock(datetime(2020, 4, 1, 9, 0, tzinfo=UTC))
    client, db, (desk,) = await desks(stack, "essex-2020.yaml", clock)
    try:
        conference = scheduled(datetime(2020, 4, 8, 9, 30, tzinfo=LONDON))
        await desk.conference_scheduled(conference)
        police = await db["reports"].find_one({"conference_id": conference.conference_id, "agency": "police"})
        clock.set(datetime(2020, 4, 7, 12, 0, tzinfo=LONDON))
        receipt = await desk.submit(police["_id"], "police", "report.pdf", b"%PDF-1.7 late but here", "officer-1")
        assert receipt["late"] is True and receipt["version"] == 1
        stored = await db["reports"].find_one({"_id": police["_id"]})
        assert stored["status"] == "submitted" and stored["late"] is True
        assert events(stored, "cpc.ReportSubmitted.v1")[0]["data"]["late"] is True
    finally:
        await client.close()


async def test_an_agency_dropped_from_the_conference_is_no_longer_asked_and_is_asked_again_when_it_returns(stack):
    clock = FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    client, db, (desk,) = await desks(stack, "gloucestershire-2022.yaml", clock)
    try:
        first = scheduled(datetime(2026, 12, 30, 13, 30, tzinfo=LONDON))
        await desk.conference_scheduled(first)
        without_police = first.model_copy(update={"version": 2, "invitees": first.invitees[:2]})
        await desk.conference_scheduled(without_police)
        await desk.conference_scheduled(without_police)  # redelivered: nothing new
        reports = {r["agency"]: r async for r in db["reports"].find({"conference_id": first.conference_id})}
        assert reports["police"]["status"] == "withdrawn" and len(events(reports["police"], "cpc.ReportWithdrawn.v1")) == 1
        assert reports["health"]["status"] == "requested" and not events(reports["health"], "cpc.ReportWithdrawn.v1")

        police_again = first.model_copy(update={"version": 3})
        await desk.conference_scheduled(police_again)
        police = await db["reports"].find_one({"_id": reports["police"]["_id"]})
        assert police["status"] == "requested"
        requested = events(police, "cpc.ReportRequested.v1")
        assert len(requested) == 2 and requested[0]["id"] != requested[1]["id"]
    finally:
        await client.close()


async def test_when_the_only_report_still_awaited_was_a_dropped_agencys_the_conference_has_all_its_reports(stack):
    clock = FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    client, db, (desk,) = await desks(stack, "gloucestershire-2022.yaml", clock)
    try:
        first = scheduled(datetime(2026, 12, 30, 13, 30, tzinfo=LONDON))
        await desk.conference_scheduled(first)
        reports = {r["agency"]: r async for r in db["reports"].find({"conference_id": first.conference_id})}
        for agency in ("childrens_social_care", "health"):
            await desk.submit(reports[agency]["_id"], agency, "report.pdf", b"%PDF-1.7 in", "author-1")
        assert not (await db["conferences"].find_one({"_id": first.conference_id})).get("complete")

        await desk.conference_scheduled(first.model_copy(update={"version": 2, "invitees": first.invitees[:2]}))
        conference = await db["conferences"].find_one({"_id": first.conference_id})
        assert conference["complete"] is True
        (complete,) = [e for e in conference["outbox"] if e["type"] == "cpc.ReportsComplete.v1"]
        assert complete["data"]["report_ids"] == sorted(reports[a]["_id"] for a in ("childrens_social_care", "health"))
    finally:
        await client.close()


async def test_a_parents_views_are_kept_sealed_in_the_store_and_two_saves_at_once_leave_one_standing(stack):
    clock = FixedClock(datetime(2022, 5, 3, 9, tzinfo=UTC))
    client, db, (desk,) = await desks(stack, "gloucestershire-2022.yaml", clock)
    try:
        starts = datetime(2022, 5, 12, 10, tzinfo=LONDON)
        conference = scheduled(starts)
        conference = conference.model_copy(update={"invitees": [*conference.invitees, Invitee(participant_id="MUM",
                                                                                                role="parent")]})
        await desk.conference_scheduled(conference)
        token = desk.reports.links.issue(FamilyLink(conference_id=conference.conference_id, participant_id="MUM",
                                                    expires_at=starts + timedelta(days=30)))
        await handlers.save_family_views(token, {"worries": "first words"}, desk.reports)
        results = await asyncio.gather(*(handlers.save_family_views(token, {"worries": f"tab {n}"}, desk.reports)
                                         for n in (1, 2)), return_exceptions=True)
        refused = [r for r in results if isinstance(r, Refused)]
        assert all(r.status == 409 for r in refused) and len(refused) <= 1
        stored = await db["family_views"].find().to_list()
        assert len(stored) == 1 and "tab" not in repr(stored) and "first words" not in repr(stored)
        form = await handlers.family_form(token, desk.reports)
        assert form.answers["worries"] in ("tab 1", "tab 2") and stored[0]["version"] == 3 - len(refused)
    finally:
        await client.close()
