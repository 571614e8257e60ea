"""The reports process: asks every invited agency for its report when a conference is scheduled."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from cpc_reports.adapters.store import REPORTS, prepare
from cpc_reports.domain.requests import reports_needed
from cpc_shared.consumer import Route
from cpc_shared.contracts import Topics
from cpc_shared.contracts.outbound import ConferenceScheduled, ReportRequested
from cpc_shared.envelope import Envelope, event_id
from cpc_shared.logging import get_logger
from cpc_shared.outbox import outbox_entry
from cpc_shared.profile import load_profile
from cpc_shared.service import Service
from cpc_shared.settings import ProfiledSettings

log = get_logger(__name__)


def build() -> Service:
    settings = ProfiledSettings()
    profile = load_profile(settings.profile_path)
    service = Service(
        "reports", settings, outbox_collections=[REPORTS], prepare_store=prepare,
        description="Report requests to the social worker and every invited agency, with their due times.",
    )
    reports = service.db[REPORTS]
    clock = service.clock

    async def on_conference_scheduled(conference: ConferenceScheduled, envelope: Envelope) -> None:
        policy = profile.policy_on(conference.starts_at.date())
        for needed in reports_needed(conference, policy.partner_reports_hours_before):
            report_id = "RPT-" + event_id("report", conference.conference_id, needed.agency)[:13].upper().replace("-", "")
            requested = ReportRequested(
                conference_id=conference.conference_id, report_id=report_id, agency=needed.agency,
                author_role=needed.author_role, due_at=needed.due_at,
            )
            try:
                await reports.insert_one({
                    "_id": report_id, "conference_id": conference.conference_id, "agency": needed.agency,
                    "author_role": needed.author_role, "due_at": needed.due_at, "status": "requested",
                    "outbox": [outbox_entry(requested, at=clock.now(), cause=report_id)],
                })
            except DuplicateKeyError:
                continue  # requested already
            log.info("report_requested", conference_id=conference.conference_id, report_id=report_id,
                     agency=needed.agency)
        service.relay.notify()

    service.consume(Topics.CONFERENCES, {ConferenceScheduled.type: Route(ConferenceScheduled, on_conference_scheduled)})
    service.publishes(ReportRequested)
    return service
