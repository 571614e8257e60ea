"""The reports process: asks every invited agency for its report, takes them in, and chases the late."""

from __future__ import annotations

from cpc_shared.consumer import Route
from cpc_shared.contracts import Topics
from cpc_shared.contracts.outbound import (
    ConferenceArrangements,
    ConferenceCancelled,
    ConferenceRescheduled,
    ConferenceScheduled,
    ReportEscalated,
    ReportOverdue,
    ReportRequested,
    ReportsComplete,
    ReportSubmitted,
    ReportWithdrawn,
)
from cpc_shared.envelope import Envelope
from cpc_shared.service import Service
from cpc_shared.settings import StaffApiSettings
from pydantic import Field

from cpc_reports.adapters.store import ALERTS, CONFERENCES, REPORTS, prepare
from cpc_reports.api import build_api
from cpc_reports.desk import ReportsDesk
from cpc_reports.domain.files import MAX_BYTES


class ReportsSettings(StaffApiSettings):
    report_max_bytes: int = Field(MAX_BYTES, gt=0, description="Largest report file accepted.")
    timer_poll_seconds: float = Field(2.0, gt=0, description="How often due times are checked.")


def build() -> Service:
    settings = ReportsSettings()
    profile = settings.profile()
    service = Service(
        "reports", settings, outbox_collections=[REPORTS, CONFERENCES, ALERTS], prepare_store=prepare,
        description="Report requests to the social worker and every invited agency, submissions, and chasers.",
    )
    desk = ReportsDesk(service.db, profile, profile.calendar(),
                       service.clock, service.relay, settings.report_max_bytes)

    async def on_conference_scheduled(conference: ConferenceArrangements, envelope: Envelope) -> None:
        await desk.conference_scheduled(conference)

    async def on_conference_cancelled(cancelled: ConferenceCancelled, envelope: Envelope) -> None:
        await desk.conference_cancelled(cancelled.conference_id)

    service.consume(Topics.CONFERENCES, {
        ConferenceScheduled.type: Route(ConferenceScheduled, on_conference_scheduled),
        ConferenceRescheduled.type: Route(ConferenceRescheduled, on_conference_scheduled),
        ConferenceCancelled.type: Route(ConferenceCancelled, on_conference_cancelled),
    })
    service.every(settings.timer_poll_seconds, desk.raise_overdue)
    service.mount_api(build_api(desk, settings.staff_token_secret.get_secret_value(), service.serial))
    service.publishes(ReportRequested, ReportSubmitted, ReportOverdue, ReportEscalated, ReportWithdrawn,
                      ReportsComplete)
    return service
