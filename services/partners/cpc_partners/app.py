"""The partners process: an anti-corruption layer from the internal topics to the public partner.* topics.

Entry points only: each event goes to its handler in handlers.py."""

from __future__ import annotations

from cpc_shared.consumer import Route
from cpc_shared.contracts import Topics
from cpc_shared.contracts.inbound import ConferenceOutcomeRecorded, ConferenceRequested
from cpc_shared.contracts.outbound import (
    ConferenceArrangements,
    ConferenceCancelled,
    ConferenceRescheduled,
    ConferenceScheduled,
    ReportOverdue,
    ReportRequested,
    ReportWithdrawn,
)
from cpc_shared.contracts.partner import AGENCY_EVENTS, CPIS_EVENTS
from cpc_shared.envelope import Envelope
from cpc_shared.service import Service
from cpc_shared.settings import ProfiledSettings

from cpc_partners import handlers
from cpc_partners.bootstrap import bootstrap


def build() -> Service:
    service, partners = bootstrap(ProfiledSettings())

    async def on_requested(request: ConferenceRequested, envelope: Envelope) -> None:
        await handlers.requested(request, partners)

    async def on_outcome(outcome: ConferenceOutcomeRecorded, envelope: Envelope) -> None:
        await handlers.outcome_recorded(outcome, partners)

    async def on_arranged(arrangements: ConferenceArrangements, envelope: Envelope) -> None:
        await handlers.arranged(arrangements, partners)

    async def on_cancelled(cancelled: ConferenceCancelled, envelope: Envelope) -> None:
        await handlers.cancelled(cancelled, partners)

    async def on_report_requested(event: ReportRequested, envelope: Envelope) -> None:
        await handlers.report_requested(event, partners)

    async def on_report_overdue(event: ReportOverdue, envelope: Envelope) -> None:
        await handlers.report_overdue(event, partners)

    async def on_report_withdrawn(event: ReportWithdrawn, envelope: Envelope) -> None:
        await handlers.report_withdrawn(event, partners)

    # Scheduling dead-letters bad input on these topics; this service reads what is valid and skips the rest.
    service.consume(Topics.CASEMGMT, {
        ConferenceRequested.type: Route(ConferenceRequested, on_requested),
        ConferenceOutcomeRecorded.type: Route(ConferenceOutcomeRecorded, on_outcome),
    }, dead_letter_invalid=False)
    service.consume(Topics.CONFERENCES, {
        ConferenceScheduled.type: Route(ConferenceScheduled, on_arranged),
        ConferenceRescheduled.type: Route(ConferenceRescheduled, on_arranged),
        ConferenceCancelled.type: Route(ConferenceCancelled, on_cancelled),
    }, dead_letter_invalid=False)
    service.consume(Topics.REPORTS, {
        ReportRequested.type: Route(ReportRequested, on_report_requested),
        ReportOverdue.type: Route(ReportOverdue, on_report_overdue),
        ReportWithdrawn.type: Route(ReportWithdrawn, on_report_withdrawn),
    }, dead_letter_invalid=False)
    for model in (*CPIS_EVENTS, *AGENCY_EVENTS):  # for the service's own AsyncAPI document
        service.broker.publisher(model.channel, title=f"{model.channel}:{model.type}", schema=model,
                                 description=f"ce_type {model.type}. " + " ".join((model.__doc__ or "").split()),
                                 include_in_schema=True)
    return service
