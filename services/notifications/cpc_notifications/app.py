"""The notifications process: tells every participant what they need to know about their conference, once."""

from __future__ import annotations

from cpc_shared.consumer import Route
from cpc_shared.contracts import Topics
from cpc_shared.contracts.inbound import CaseDetailsChanged, ConferenceRequested
from cpc_shared.contracts.outbound import (
    ConferenceArrangements,
    ConferenceCancelled,
    ConferenceDeadlineAtRisk,
    ConferenceRescheduled,
    ConferenceScheduled,
    ConferenceTaskDue,
    ConferenceTaskOverdue,
    FamilyViewsReceived,
    NotificationFailed,
    NotificationSent,
    QuorumAtRisk,
    ReportEscalated,
    ReportOverdue,
    ReportRequested,
)
from cpc_shared.envelope import Envelope
from cpc_shared.service import Service

from cpc_notifications import handlers
from cpc_notifications.bootstrap import NotificationSettings, bootstrap

TASKS = {  # what the team must do, as the alert says it
    "decision_letter": "the decision letter to everyone invited to the conference",
    "conference_record": "the conference's full record",
    "first_core_group": "the first core group meeting",
    "pre_conference_discussion": "a discussion with the family, who cannot join the conference, before it",
    "post_conference_discussion": "a discussion with the family, who could not join the conference, after it",
}


def build() -> Service:
    settings = NotificationSettings()
    service, post = bootstrap(settings)

    async def on_conference_requested(request: ConferenceRequested, envelope: Envelope) -> None:
        await handlers.remember_contacts(request.case_id, request.participants, request.family, post,
                                         children=len(request.children))

    async def on_case_details_changed(change: CaseDetailsChanged, envelope: Envelope) -> None:
        await handlers.remember_contacts(change.case_id, change.participants or [], change.family, post)

    async def on_scheduled(conference: ConferenceArrangements, envelope: Envelope) -> None:
        await handlers.conference_scheduled(conference, post)

    async def on_cancelled(cancelled: ConferenceCancelled, envelope: Envelope) -> None:
        await handlers.conference_cancelled(cancelled.conference_id, post)

    async def on_deadline_at_risk(at_risk: ConferenceDeadlineAtRisk, envelope: Envelope) -> None:
        await handlers.alert_team(at_risk.conference_id, at_risk.case_id, "deadline_at_risk",
                                  "The conference may not be held by its statutory deadline.",
                                  f"Deadline: {at_risk.statutory_deadline:%-d %B %Y}. Reason: {at_risk.reason}.",
                                  post, to_team_manager=True)

    async def on_quorum_at_risk(at_risk: QuorumAtRisk, envelope: Envelope) -> None:
        # Each warning is its own (first invited, then after agencies left): one alert per event, not per conference.
        await handlers.alert_team(at_risk.conference_id, at_risk.case_id, f"quorum_at_risk|{envelope.id}",
                                  "For the chair: the conference may not be quorate.", f"{at_risk.reason}.", post)

    async def on_task_due(due: ConferenceTaskDue, envelope: Envelope) -> None:
        await handlers.alert_team(due.conference_id, due.case_id, f"task_due|{due.task}|{due.due_on}",
                                  f"Due today: {TASKS[due.task]}.", f"Due by the end of {due.due_on:%A %-d %B %Y}. "
                                  "Record it as done in the conference team's API when it is.", post)

    async def on_task_overdue(overdue: ConferenceTaskOverdue, envelope: Envelope) -> None:
        await handlers.alert_team(overdue.conference_id, overdue.case_id, f"task_overdue|{overdue.task}|{overdue.due_on}",
                                  f"Overdue: {TASKS[overdue.task]}.", f"It was due by {overdue.due_on:%-d %B %Y}.",
                                  post, to_team_manager=True)

    async def on_report_requested(requested: ReportRequested, envelope: Envelope) -> None:
        await handlers.report_message(requested, "report_request", requested.due_at.isoformat(), post)

    async def on_report_overdue(overdue: ReportOverdue, envelope: Envelope) -> None:
        await handlers.report_message(overdue, "report_chaser", overdue.due_at.isoformat(), post)

    async def on_report_escalated(escalated: ReportEscalated, envelope: Envelope) -> None:
        await handlers.alert_team(escalated.conference_id, None, f"report_escalated_{escalated.report_id}",
                                  f"For the chair ({escalated.chair_id or 'unassigned'}): a report is still missing.",
                                  f"Agency: {escalated.agency}. It was due by {escalated.due_at:%-d %B %Y %H:%M}.", post)

    service.consume(Topics.CASEMGMT, {
        ConferenceRequested.type: Route(ConferenceRequested, on_conference_requested),
        CaseDetailsChanged.type: Route(CaseDetailsChanged, on_case_details_changed),
    }, dead_letter_invalid=False)
    service.consume(Topics.CONFERENCES, {
        ConferenceScheduled.type: Route(ConferenceScheduled, on_scheduled),
        ConferenceRescheduled.type: Route(ConferenceRescheduled, on_scheduled),
        ConferenceCancelled.type: Route(ConferenceCancelled, on_cancelled),
        ConferenceDeadlineAtRisk.type: Route(ConferenceDeadlineAtRisk, on_deadline_at_risk),
        QuorumAtRisk.type: Route(QuorumAtRisk, on_quorum_at_risk),
        ConferenceTaskDue.type: Route(ConferenceTaskDue, on_task_due),
        ConferenceTaskOverdue.type: Route(ConferenceTaskOverdue, on_task_overdue),
    })
    async def on_family_views(received: FamilyViewsReceived, envelope: Envelope) -> None:
        await handlers.family_views_received(received, post)

    service.consume(Topics.REPORTS, {
        FamilyViewsReceived.type: Route(FamilyViewsReceived, on_family_views),
        ReportRequested.type: Route(ReportRequested, on_report_requested),
        ReportOverdue.type: Route(ReportOverdue, on_report_overdue),
        ReportEscalated.type: Route(ReportEscalated, on_report_escalated),
    })
    async def send_due() -> None:
        await handlers.send_due(post)

    service.timer(settings.timer_poll_seconds, send_due)
    service.publishes(NotificationSent, NotificationFailed)
    return service
