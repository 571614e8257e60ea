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
    NotificationFailed,
    NotificationSent,
    QuorumAtRisk,
    ReportEscalated,
    ReportOverdue,
    ReportRequested,
)
from cpc_shared.envelope import Envelope
from cpc_shared.service import Service
from cpc_shared.settings import ProfiledSettings
from pydantic import Field, SecretStr

from cpc_notifications.adapters.email import SmtpChannel
from cpc_notifications.adapters.notify import NotifyChannel
from cpc_notifications.adapters.store import MESSAGES, ContactSeal, prepare
from cpc_notifications.postroom import Postroom


class NotificationSettings(ProfiledSettings):
    smtp_host: str = Field("127.0.0.1", description="SMTP server for e-mail.", examples=["smtp.council.example"])
    smtp_port: int = Field(3025, description="SMTP port.", examples=[25, 587])
    email_sender: str = Field("cpc-team@council.example", description="From address of e-mails.")
    team_mailbox: str = Field("cpc-team@council.example",
                              description="The conference team's shared mailbox: alerts for chairs and managers.")
    contact_key: SecretStr = Field(description="Fernet key that encrypts contact details at rest (32 url-safe base64 bytes).")
    notify_api_key: SecretStr | None = Field(None, description="GOV.UK Notify API key; without it, no SMS.")
    notify_base_url: str = Field("https://api.notifications.service.gov.uk", description="GOV.UK Notify API.")
    notify_sms_template_id: str = Field("", description="Notify template for text messages: ((body)).")
    notify_email_template_id: str = Field("", description="Notify template for e-mail: ((subject)), ((body)).")
    timer_poll_seconds: float = Field(5.0, gt=0, description="How often reminders and deferred texts are checked.")


TASKS = {  # what the team must do, as the alert says it
    "decision_letter": "the decision letter to everyone invited to the conference",
    "conference_record": "the conference's full record",
    "first_core_group": "the first core group meeting",
    "pre_conference_discussion": "a discussion with the family, who cannot join the conference, before it",
    "post_conference_discussion": "a discussion with the family, who could not join the conference, after it",
}


def build() -> Service:
    settings = NotificationSettings()
    profile = settings.profile()
    service = Service(
        "notifications", settings, outbox_collections=[MESSAGES], prepare_store=prepare,
        description="Invitations, updates, reminders, report requests and alerts, each sent once.",
    )
    notify = None
    if settings.notify_api_key is not None:
        notify = NotifyChannel(settings.notify_api_key.get_secret_value(), settings.notify_base_url,
                               settings.notify_sms_template_id, settings.notify_email_template_id)
    postroom = Postroom(
        db=service.db, profile=profile, clock=service.clock, relay=service.relay,
        seal=ContactSeal(settings.contact_key.get_secret_value()),
        email=SmtpChannel(settings.smtp_host, settings.smtp_port, settings.email_sender),
        notify=notify, team_mailbox=settings.team_mailbox,
    )

    async def on_conference_requested(request: ConferenceRequested, envelope: Envelope) -> None:
        await postroom.remember_contacts(request.case_id, request.participants, request.family,
                                         children=len(request.children))

    async def on_case_details_changed(change: CaseDetailsChanged, envelope: Envelope) -> None:
        await postroom.remember_contacts(change.case_id, change.participants or [], change.family)

    async def on_scheduled(conference: ConferenceArrangements, envelope: Envelope) -> None:
        await postroom.conference_scheduled(conference)

    async def on_cancelled(cancelled: ConferenceCancelled, envelope: Envelope) -> None:
        await postroom.conference_cancelled(cancelled.conference_id)

    async def on_deadline_at_risk(at_risk: ConferenceDeadlineAtRisk, envelope: Envelope) -> None:
        await postroom.alert_team(at_risk.conference_id, at_risk.case_id, "deadline_at_risk",
                                  "The conference may not be held by its statutory deadline.",
                                  f"Deadline: {at_risk.statutory_deadline:%-d %B %Y}. Reason: {at_risk.reason}.",
                                  to_team_manager=True)

    async def on_quorum_at_risk(at_risk: QuorumAtRisk, envelope: Envelope) -> None:
        # Each warning is its own (first invited, then after agencies left): one alert per event, not per conference.
        await postroom.alert_team(at_risk.conference_id, at_risk.case_id, f"quorum_at_risk|{envelope.id}",
                                  "For the chair: the conference may not be quorate.", f"{at_risk.reason}.")

    async def on_task_due(due: ConferenceTaskDue, envelope: Envelope) -> None:
        await postroom.alert_team(due.conference_id, due.case_id, f"task_due|{due.task}|{due.due_on}",
                                  f"Due today: {TASKS[due.task]}.", f"Due by the end of {due.due_on:%A %-d %B %Y}. "
                                  "Record it as done in the conference team's API when it is.")

    async def on_task_overdue(overdue: ConferenceTaskOverdue, envelope: Envelope) -> None:
        await postroom.alert_team(overdue.conference_id, overdue.case_id, f"task_overdue|{overdue.task}|{overdue.due_on}",
                                  f"Overdue: {TASKS[overdue.task]}.", f"It was due by {overdue.due_on:%-d %B %Y}.",
                                  to_team_manager=True)

    async def on_report_requested(requested: ReportRequested, envelope: Envelope) -> None:
        await postroom.report_message(requested, "report_request", version=requested.due_at.isoformat())

    async def on_report_overdue(overdue: ReportOverdue, envelope: Envelope) -> None:
        await postroom.report_message(overdue, "report_chaser", version=overdue.due_at.isoformat())

    async def on_report_escalated(escalated: ReportEscalated, envelope: Envelope) -> None:
        await postroom.alert_team(escalated.conference_id, None, f"report_escalated_{escalated.report_id}",
                                  f"For the chair ({escalated.chair_id or 'unassigned'}): a report is still missing.",
                                  f"Agency: {escalated.agency}. It was due by {escalated.due_at:%-d %B %Y %H:%M}.")

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
    service.consume(Topics.REPORTS, {
        ReportRequested.type: Route(ReportRequested, on_report_requested),
        ReportOverdue.type: Route(ReportOverdue, on_report_overdue),
        ReportEscalated.type: Route(ReportEscalated, on_report_escalated),
    })
    service.every(settings.timer_poll_seconds, postroom.send_due)
    service.publishes(NotificationSent, NotificationFailed)
    return service
