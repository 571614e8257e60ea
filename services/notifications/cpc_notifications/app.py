"""The notifications process: tells every participant about their conference, once."""

from __future__ import annotations

from typing import Any

from aiosmtplib import SMTPException
from pydantic import Field, SecretStr
from pymongo.errors import DuplicateKeyError

from cpc_notifications.adapters.email import SmtpChannel
from cpc_notifications.adapters.store import CONTACTS, MESSAGES, ContactSeal, prepare
from cpc_notifications.domain.messages import invitation
from cpc_shared.consumer import NotYet, Route
from cpc_shared.contracts import Topics
from cpc_shared.contracts.inbound import CaseDetailsChanged, ConferenceRequested, Participant
from cpc_shared.contracts.outbound import ConferenceScheduled, NotificationFailed, NotificationSent
from cpc_shared.envelope import Envelope, event_id
from cpc_shared.logging import get_logger
from cpc_shared.outbox import outbox_entry
from cpc_shared.profile import load_profile
from cpc_shared.service import Service
from cpc_shared.settings import ProfiledSettings

log = get_logger(__name__)


class NotificationSettings(ProfiledSettings):
    smtp_host: str = Field("127.0.0.1", description="SMTP server for e-mail.", examples=["smtp.council.example"])
    smtp_port: int = Field(3025, description="SMTP port.", examples=[25, 587])
    email_sender: str = Field("cpc-team@council.example", description="From address of e-mails.")
    contact_key: SecretStr = Field(description="Fernet key that encrypts contact details at rest (32 url-safe base64 bytes).")


class SendFailed(NotYet):
    """The channel refused for now (server away): retried with backoff."""


def build() -> Service:
    settings = NotificationSettings()
    profile = load_profile(settings.profile_path)
    service = Service(
        "notifications", settings, outbox_collections=[MESSAGES], prepare_store=prepare,
        description="Invitations, updates and reminders to families and professionals, sent once.",
    )
    contacts = service.db[CONTACTS]
    messages = service.db[MESSAGES]
    seal = ContactSeal(settings.contact_key.get_secret_value())
    email = SmtpChannel(settings.smtp_host, settings.smtp_port, settings.email_sender)
    clock = service.clock

    async def remember_contacts(case_id: str, participants: list[Participant], language: str | None) -> None:
        fields: dict[str, Any] = {
            f"participants.{p.participant_id}": {
                "role": p.role, "agency": p.agency, "preferred_channel": p.preferred_channel,
                "sealed": seal.seal({"name": p.name, "email": p.email, "phone": p.phone}),
            }
            for p in participants
        }
        if language:
            fields["language"] = language
        await contacts.update_one({"_id": case_id}, {"$set": fields}, upsert=True)

    async def on_conference_requested(request: ConferenceRequested, envelope: Envelope) -> None:
        await remember_contacts(request.case_id, request.participants, request.family.language)

    async def on_case_details_changed(change: CaseDetailsChanged, envelope: Envelope) -> None:
        if change.participants:
            await remember_contacts(change.case_id, change.participants, change.family.language if change.family else None)

    async def on_conference_scheduled(conference: ConferenceScheduled, envelope: Envelope) -> None:
        case = await contacts.find_one({"_id": conference.case_id})
        if case is None:
            raise NotYet("contact details for this case not yet received")
        place = "online"
        if conference.office_id:
            office = next((o for o in profile.offices if o.id == conference.office_id), None)
            room = next((r for o in profile.offices for r in o.rooms if r.id == conference.room_id), None)
            place = f"{room.name + ', ' if room else ''}{office.address if office else conference.office_id}"
        for invitee in conference.invitees:
            contact = case.get("participants", {}).get(invitee.participant_id)
            if contact is None:
                raise NotYet("contact details for an invitee not yet received")
            await notify(conference, invitee.participant_id, invitee.role, contact, "invitation", place)
        service.relay.notify()

    async def notify(conference: ConferenceScheduled, participant_id: str, role: str, contact: dict[str, Any],
                     purpose: str, place: str) -> None:
        notification_id = "NTF-" + event_id(conference.conference_id, participant_id, purpose, conference.version)
        details = seal.open(contact["sealed"])
        channel = "email" if details.get("email") else None
        record = {"_id": notification_id, "conference_id": conference.conference_id, "recipient_id": participant_id,
                  "purpose": purpose, "version": conference.version, "channel": channel or "none", "status": "sending"}
        try:
            await messages.insert_one(record)
        except DuplicateKeyError:
            existing = await messages.find_one({"_id": notification_id}, {"status": 1})
            if existing and existing["status"] != "sending":
                return  # sent (or failed for good) already: never twice
        if channel is None:
            failed = NotificationFailed(conference_id=conference.conference_id, notification_id=notification_id,
                                        recipient_id=participant_id, purpose=purpose, channel="email")
            await messages.update_one({"_id": notification_id, "status": "sending"}, {
                "$set": {"status": "failed", "failure": "no e-mail address; SMS and letters come with GOV.UK Notify"},
                "$push": {"outbox": outbox_entry(failed, at=clock.now(), cause=notification_id)}})
            return
        message = invitation(conference, role, place, profile.timezone)
        try:
            await email.send(to=details["email"], subject=message.subject, body=message.body, message_id=notification_id,
                             conference_id=conference.conference_id)
        except (SMTPException, OSError) as error:
            raise SendFailed(type(error).__name__) from None
        sent = NotificationSent(conference_id=conference.conference_id, notification_id=notification_id,
                                recipient_id=participant_id, purpose=purpose, channel="email")
        await messages.update_one({"_id": notification_id, "status": "sending"}, {
            "$set": {"status": "sent", "sent_at": clock.now()},
            "$push": {"outbox": outbox_entry(sent, at=clock.now(), cause=notification_id)}})
        log.info("notification_sent", conference_id=conference.conference_id, notification_id=notification_id,
                 purpose=purpose, channel="email")

    service.consume(Topics.CASEMGMT, {
        ConferenceRequested.type: Route(ConferenceRequested, on_conference_requested),
        CaseDetailsChanged.type: Route(CaseDetailsChanged, on_case_details_changed),
    }, dead_letter_invalid=False)
    service.consume(Topics.CONFERENCES, {ConferenceScheduled.type: Route(ConferenceScheduled, on_conference_scheduled)})
    service.publishes(NotificationSent, NotificationFailed)
    return service
