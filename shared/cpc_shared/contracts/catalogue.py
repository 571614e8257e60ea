"""Every topic and every event type the system knows, in one place."""

from __future__ import annotations

from pydantic import BaseModel

from cpc_shared.contracts import inbound, outbound, partner


class Topics:
    CASEMGMT = "casemgmt.events"
    CONFERENCES = "cpc.conferences"
    ROOMS = "cpc.rooms"
    REPORTS = "cpc.reports"
    NOTIFICATIONS = "cpc.notifications"

    ALL = (CASEMGMT, CONFERENCES, ROOMS, REPORTS, NOTIFICATIONS)
    # Public topics for partner systems (contracts/partner.py): nothing inside reads them, so no dead-letter twins.
    PARTNER_CPIS = partner.CPIS_TOPIC
    PARTNERS = partner.PARTNER_TOPICS

    @staticmethod
    def created() -> list[str]:
        """Every topic the system needs: the internal ones with their dead-letter twins, and the partners'."""
        return [name for topic in Topics.ALL for name in (topic, Topics.dead_letter(topic))] + list(Topics.PARTNERS)

    @staticmethod
    def partner_agency(agency: str) -> str:
        return partner.agency_topic(agency)

    @staticmethod
    def dead_letter(topic: str) -> str:
        return f"{topic}.dlq"


_MODELS: list[type[BaseModel]] = [
    inbound.ConferenceRequested,
    inbound.ConferenceOutcomeRecorded,
    inbound.CaseDetailsChanged,
    inbound.ConferenceCancellationRequested,
    outbound.ConferenceScheduled,
    outbound.ConferenceRescheduled,
    outbound.ConferenceCancelled,
    outbound.ConferenceDeadlineAtRisk,
    outbound.QuorumAtRisk,
    outbound.ConferenceTaskDue,
    outbound.ConferenceTaskOverdue,
    outbound.InterpreterRequested,
    outbound.RoomRequested,
    outbound.RoomBooked,
    outbound.RoomUnavailable,
    outbound.RoomReleased,
    outbound.ReportRequested,
    outbound.ReportSubmitted,
    outbound.ReportOverdue,
    outbound.ReportEscalated,
    outbound.ReportWithdrawn,
    outbound.ReportsComplete,
    outbound.FamilyViewsReceived,
    outbound.NotificationSent,
    outbound.NotificationFailed,
]

CATALOGUE: dict[str, type[BaseModel]] = {m.type: m for m in _MODELS}  # type: ignore[attr-defined]


def model_for(event_type: str) -> type[BaseModel] | None:
    return CATALOGUE.get(event_type)
