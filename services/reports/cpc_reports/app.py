"""The reports process: asks every invited agency for its report, takes them in, and chases the late; takes the
family's views before the conference on their form (/family/<token>).

Entry points only: each event goes to its handler in handlers.py."""

from __future__ import annotations

from cpc_shared.consumer import Route
from cpc_shared.contracts import Topics
from cpc_shared.contracts.outbound import (
    ConferenceArrangements,
    ConferenceCancelled,
    ConferenceRescheduled,
    ConferenceScheduled,
    FamilyViewsReceived,
    ReportEscalated,
    ReportOverdue,
    ReportRequested,
    ReportsComplete,
    ReportSubmitted,
    ReportWithdrawn,
)
from cpc_shared.envelope import Envelope
from cpc_shared.service import Service

from cpc_reports import handlers
from cpc_reports.api import build_api
from cpc_reports.bootstrap import ReportsSettings, bootstrap, form_limits


def build() -> Service:
    settings = ReportsSettings()
    service, desk = bootstrap(settings)

    async def on_conference_scheduled(conference: ConferenceArrangements, envelope: Envelope) -> None:
        await handlers.conference_scheduled(conference, desk)

    async def on_conference_cancelled(cancelled: ConferenceCancelled, envelope: Envelope) -> None:
        await handlers.conference_cancelled(cancelled, desk)

    async def raise_alerts() -> int:
        return await handlers.raise_alerts(desk)

    service.consume(Topics.CONFERENCES, {
        ConferenceScheduled.type: Route(ConferenceScheduled, on_conference_scheduled),
        ConferenceRescheduled.type: Route(ConferenceRescheduled, on_conference_scheduled),
        ConferenceCancelled.type: Route(ConferenceCancelled, on_conference_cancelled),
    })
    service.timer(settings.timer_poll_seconds, raise_alerts)
    service.mount_api(build_api(desk, settings.staff_token_secret.get_secret_value(), form_limits(settings)),
                      prefixes=("/api", "/family"))
    service.publishes(ReportRequested, ReportSubmitted, ReportOverdue, ReportEscalated, ReportWithdrawn,
                      ReportsComplete, FamilyViewsReceived)
    return service
