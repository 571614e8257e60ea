"""The composition root: the notifications service's adapters, wired once."""

from __future__ import annotations

from cpc_shared.family_link import FamilyLinks
from cpc_shared.repository import Repository
from cpc_shared.sealing import Seal
from cpc_shared.service import Service
from cpc_shared.settings import FamilySettings
from pydantic import Field, SecretStr

from cpc_notifications.adapters.email import SmtpChannel
from cpc_notifications.adapters.notify import NotifyChannel
from cpc_notifications.adapters.store import MESSAGES, StoredKnown, prepare
from cpc_notifications.domain.notification import Notification, Timer
from cpc_notifications.handlers import Notifications


class NotificationSettings(FamilySettings):
    smtp_host: str = Field("127.0.0.1", description="SMTP server for e-mail.", examples=["smtp.council.example"])
    smtp_port: int = Field(3025, description="SMTP port.", examples=[25, 587])
    email_sender: str = Field("cpc-team@council.example", description="From address of e-mails.")
    team_mailbox: str = Field("cpc-team@council.example",
                              description="The conference team's shared mailbox: alerts for chairs and managers.")
    notify_api_key: SecretStr | None = Field(None, description="GOV.UK Notify API key; without it, no SMS.")
    notify_base_url: str = Field("https://api.notifications.service.gov.uk", description="GOV.UK Notify API.")
    notify_sms_template_id: str = Field("", description="Notify template for text messages: ((body)).")
    notify_email_template_id: str = Field("", description="Notify template for e-mail: ((subject)), ((body)).")
    timer_poll_seconds: float = Field(5.0, gt=0, description="How often reminders and deferred texts are checked.")
    family_form_base_url: str = Field(
        "http://127.0.0.1:8103", description="Where families open their form (the reports service's public address): "
        "their invitation links to <this>/family/<their token>.", examples=["https://cpc.council.example"])


def bootstrap(settings: NotificationSettings) -> tuple[Service, Notifications]:
    service = Service(
        "notifications", settings, outbox_collections=[MESSAGES], prepare_store=prepare,
        description="Invitations, updates, reminders, report requests and alerts, each sent once.",
    )
    texts = None
    if settings.notify_api_key is not None:
        texts = NotifyChannel(settings.notify_api_key.get_secret_value(), settings.notify_base_url,
                              settings.notify_sms_template_id, settings.notify_email_template_id)
    profile = settings.profile()
    post = Notifications(
        notifications=Repository(service.store, Notification, service.relay),
        timers=Repository(service.store, Timer, service.relay), known=StoredKnown(service.store),
        seal=Seal(settings.contact_key.get_secret_value()),
        email=SmtpChannel(settings.smtp_host, settings.smtp_port, settings.email_sender), texts=texts,
        profile=profile, calendar=profile.calendar(), clock=service.clock, team_mailbox=settings.team_mailbox,
        links=FamilyLinks(settings.family_link_key.get_secret_value()), form_base_url=settings.family_form_base_url,
    )
    return service, post
