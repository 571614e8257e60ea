"""The scheduling process: the case-management system's requests and outcomes in, conferences out; the conference
team's API and dashboard.

Entry points only: each event goes to its handler in handlers.py."""

from __future__ import annotations

from cpc_shared import dead_letters
from cpc_shared.broker import kafka_client_options
from cpc_shared.consumer import Route
from cpc_shared.contracts import Topics
from cpc_shared.contracts.inbound import (
    CaseDetailsChanged,
    ConferenceCancellationRequested,
    ConferenceOutcomeRecorded,
    ConferenceRequested,
)
from cpc_shared.contracts.outbound import (
    ConferenceCancelled,
    ConferenceDeadlineAtRisk,
    ConferenceRescheduled,
    ConferenceScheduled,
    ConferenceTaskDue,
    ConferenceTaskOverdue,
    InterpreterRequested,
    QuorumAtRisk,
    RoomBooked,
    RoomRequested,
    RoomUnavailable,
)
from cpc_shared.envelope import Envelope
from cpc_shared.service import Service

from cpc_scheduling import handlers
from cpc_scheduling.api import build_api
from cpc_scheduling.bootstrap import SchedulingSettings, bootstrap
from cpc_scheduling.dashboard.facts import TeamFacts
from cpc_scheduling.dashboard.pages import dashboard_router
from cpc_scheduling.domain.conference import UPCOMING


def build() -> Service:
    settings = SchedulingSettings()
    service, s = bootstrap(settings)

    async def on_conference_requested(request: ConferenceRequested, envelope: Envelope) -> None:
        await handlers.conference_requested(request, s)

    async def on_outcome_recorded(outcome: ConferenceOutcomeRecorded, envelope: Envelope) -> None:
        await handlers.outcome_recorded(outcome, envelope.id, s)

    async def on_cancellation_requested(request: ConferenceCancellationRequested, envelope: Envelope) -> None:
        await handlers.cancellation_requested(request, envelope.id, s)

    async def on_case_details_changed(change: CaseDetailsChanged, envelope: Envelope) -> None:
        await handlers.case_details_changed(change, envelope.id, s)

    async def on_room_booked(booked: RoomBooked, envelope: Envelope) -> None:
        await handlers.room_booked(booked, s)

    async def on_room_unavailable(unavailable: RoomUnavailable, envelope: Envelope) -> None:
        await handlers.room_unavailable(unavailable, s)

    async def expire_chair_holds() -> None:
        await handlers.expire_chair_holds(s)

    async def remind_team() -> int:
        return await s.tasks.remind()

    async def past_deadline_not_held() -> float:
        """Conferences still to be held (or rearranged) whose statutory deadline, a date, has gone by."""
        today = s.council.local_date(s.clock.now()).isoformat()
        overdue = await service.store.find_many(
            "conferences", {"status": {"$in": [status.value for status in UPCOMING]}, "statutory_deadline": {"$lt": today}})
        return len(overdue)

    service.consume(Topics.CASEMGMT, {
        ConferenceRequested.type: Route(ConferenceRequested, on_conference_requested),
        ConferenceCancellationRequested.type: Route(ConferenceCancellationRequested, on_cancellation_requested),
        ConferenceOutcomeRecorded.type: Route(ConferenceOutcomeRecorded, on_outcome_recorded),
        CaseDetailsChanged.type: Route(CaseDetailsChanged, on_case_details_changed),
    })
    service.consume(Topics.ROOMS, {
        RoomBooked.type: Route(RoomBooked, on_room_booked),
        RoomUnavailable.type: Route(RoomUnavailable, on_room_unavailable),
    })
    service.metrics.gauge("cpc_conferences_past_deadline_not_held",
                          "Conferences not yet held whose statutory deadline has passed.", past_deadline_not_held)
    service.every(60, expire_chair_holds)
    service.timer(settings.timer_poll_seconds, remind_team)
    secret = settings.staff_token_secret.get_secret_value()
    api = build_api(s, secret)
    kafka = kafka_client_options(settings)
    facts = TeamFacts(settings.reports_url, settings.rooms_url, lambda: dead_letters.waiting(kafka))
    service.reads_offsets(dead_letters.REPLAYER_GROUP, [Topics.dead_letter(topic) for topic in Topics.ALL])
    api.include_router(dashboard_router(s, facts, secret))
    service.mount_api(api, prefixes=("/api", "/dashboard"))
    service.publishes(ConferenceScheduled, ConferenceRescheduled, ConferenceCancelled, ConferenceDeadlineAtRisk,
                      QuorumAtRisk, RoomRequested, ConferenceTaskDue, ConferenceTaskOverdue, InterpreterRequested)
    return service
