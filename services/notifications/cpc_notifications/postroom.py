"""The postroom: decides who is told what, and sends each message once.

A message is claimed before it is sent: an insert whose id is (conference, recipient, purpose, version),
so a redelivered event or a second replica finds the claim and sends nothing new. Reminders and texts
held back in quiet hours are timers in the store, sent by a sweep when the next known one falls due (or a
minute has passed, for another replica's timers).
"""

from __future__ import annotations

import time as wall
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests
from aiosmtplib import SMTPException
from cpc_shared.clock import Clock
from cpc_shared.consumer import NotYet, Unavailable
from cpc_shared.contracts.inbound import FAMILY_ROLES, Family, Participant
from cpc_shared.contracts.outbound import (
    Channel,
    ConferenceArrangements,
    Invitee,
    NotificationFailed,
    NotificationSent,
    ReportOverdue,
    ReportRequested,
)
from cpc_shared.envelope import event_id
from cpc_shared.logging import get_logger
from cpc_shared.meetings import meeting_links
from cpc_shared.outbox import OutboxRelay, outbox_entry
from cpc_shared.profile import Profile
from cpc_shared.store import update_where
from notifications_python_client.errors import HTTPError
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from cpc_notifications.adapters.calendar import calendar_invite
from cpc_notifications.adapters.email import SmtpChannel
from cpc_notifications.adapters.notify import NotifyChannel, PermanentFailure
from cpc_notifications.adapters.store import CONFERENCES, CONTACTS, MESSAGES, TIMERS, ContactSeal
from cpc_notifications.domain.messages import Conference, Message, Place, Recipient, compose

log = get_logger(__name__)
TEAM = "cpc-team"
QUIET_START, QUIET_END = time(20, 0), time(8, 0)  # no text messages in the evening or at night
REMINDER_AT = time(9, 0)
MEETING = ("starts_at", "ends_at", "attendance_mode", "office_id", "room_id", "meeting_link")  # what an update tells
LOOK_AGAIN_SECONDS = 60.0
NOTHING_DUE = datetime.max.replace(tzinfo=UTC)


class SendFailed(Unavailable):
    """The channel refused for now (server away): retried with backoff."""


class Postroom:
    def __init__(self, *, db: AsyncDatabase, profile: Profile, clock: Clock, relay: OutboxRelay, seal: ContactSeal,
                 email: SmtpChannel, notify: NotifyChannel | None, team_mailbox: str) -> None:
        self.contacts, self.conferences = db[CONTACTS], db[CONFERENCES]
        self.messages, self.timers = db[MESSAGES], db[TIMERS]
        self.profile, self.clock, self.relay, self.seal = profile, clock, relay, seal
        self.email, self.notify, self.team_mailbox = email, notify, team_mailbox
        self.zone = ZoneInfo(profile.timezone)
        self.calendar = profile.calendar()
        self.links = meeting_links(profile.meeting_links)
        self._next_due: datetime | None = None  # None: not known, sweep
        self._look_again = 0.0

    # What we know ----------------------------------------------------------------------------

    async def remember_contacts(self, case_id: str, participants: list[Participant], family: Family | None,
                                children: int | None = None) -> None:
        """Contact details arrive only on the inbound topic; they are kept sealed."""
        fields: dict[str, Any] = {
            f"participants.{p.participant_id}": {
                "role": p.role, "agency": p.agency, "preferred_channel": p.preferred_channel,
                "sealed": self.seal.seal({"name": p.name, "email": p.email, "phone": p.phone}),
            }
            for p in participants
        }
        if family:
            fields.update(language=family.language, interpreter_needed=family.interpreter_needed)
        if children:
            fields["children"] = children
        if fields:
            await self.contacts.update_one({"_id": case_id}, {"$set": fields}, upsert=True)

    def _view(self, snapshot: dict[str, Any], case: dict[str, Any] | None) -> Conference:
        office = next((o for o in self.profile.offices if o.id == snapshot.get("office_id")), None)
        room = next((r for r in office.rooms if r.id == snapshot.get("room_id")), None) if office else None
        report_by = snapshot.get("family_report_by")
        return Conference(
            conference_id=snapshot["conference_id"], case_id=snapshot["case_id"], kind=snapshot["conference_type"],
            starts_at=datetime.fromisoformat(snapshot["starts_at"]), ends_at=datetime.fromisoformat(snapshot["ends_at"]),
            statutory_deadline=datetime.fromisoformat(snapshot["statutory_deadline"]).date(),
            version=snapshot["version"], invitees=[Invitee.model_validate(i) for i in snapshot["invitees"]],
            place=Place(office_address=office.address if office else None, room_name=room.name if room else None,
                        step_free=bool(room and room.step_free), meeting_link=snapshot.get("meeting_link"),
                        dial_in=self.profile.meeting_links.dial_in),
            children=(case or {}).get("children", 1), interpreter_needed=(case or {}).get("interpreter_needed", False),
            family_report_by=datetime.fromisoformat(report_by) if report_by else None,
        )

    async def _case(self, case_id: str) -> dict[str, Any]:
        case = await self.contacts.find_one({"_id": case_id})
        if case is None:
            raise NotYet("contact details for this case not yet received")
        return case

    # The conference's life -------------------------------------------------------------------

    async def conference_scheduled(self, conference: ConferenceArrangements) -> None:
        snapshot = conference.model_dump(mode="json")
        known = await self.conferences.find_one({"_id": conference.conference_id})
        if known and known["version"] > conference.version:
            return  # an older version, redelivered
        case = await self._case(conference.case_id)
        if known and known.get("family_report_by"):
            snapshot["family_report_by"] = known["family_report_by"]
        # What the participants knew before this version (kept, so a redelivery compares as the first time did).
        if known and known["version"] == conference.version:
            before = known.get("before")
        else:
            before = {field: known.get(field) for field in ("invitees", *MEETING)} if known else None
        await self.conferences.update_one({"_id": conference.conference_id},
                                          {"$set": {**snapshot, "status": "scheduled", "before": before}}, upsert=True)
        view = self._view(snapshot, case)
        earlier = {i["participant_id"]: i for i in (before or {}).get("invitees") or []}
        now_invited = {i.participant_id: i.model_dump() for i in conference.invitees}
        same_meeting = before is not None and all(before.get(field) == snapshot.get(field) for field in MEETING)
        same_people = earlier == now_invited
        for invitee in conference.invitees:
            if invitee.participant_id not in earlier:
                purpose = "invitation"  # new to this conference (or its first version)
            elif not same_meeting:
                purpose = "update"
            elif not same_people:
                purpose = "update-people"  # the invitation lists who will be there: families should know
            else:
                continue  # nothing they would see has changed
            await self.deliver(view, case, invitee.participant_id, purpose, str(conference.version), calendar=True)
        # A professional dropped from the conference takes it out of their diary; a family member who is no
        # longer invited hears it from their social worker, not from us.
        for participant_id, invitee in earlier.items():
            if participant_id not in now_invited and invitee["role"] not in FAMILY_ROLES:
                await self.deliver(view, case, participant_id, "cancellation-no_longer_invited", str(conference.version),
                                   calendar=True)
        await self._plan_reminders(view)

    async def conference_cancelled(self, conference_id: str) -> None:
        snapshot = await self.conferences.find_one({"_id": conference_id})
        await self.timers.update_many({"conference_id": conference_id, "status": "waiting"},
                                      {"$set": {"status": "cancelled"}})
        if snapshot is None:
            return  # never scheduled, so nobody was told of it
        await self.conferences.update_one({"_id": conference_id}, {"$set": {"status": "cancelled"}})
        case = await self._case(snapshot["case_id"])
        view = self._view(snapshot, case)
        cancelled = replace(view, version=view.version + 1)  # the calendar invitation's next sequence
        for invitee in view.invitees:
            await self.deliver(cancelled, case, invitee.participant_id, "cancellation", "final", calendar=True)

    async def _plan_reminders(self, view: Conference) -> None:
        day = view.starts_at.astimezone(self.zone).date()
        plan = self.profile.policy_on(day).reminder_working_days_before
        for days_before in plan:
            on = day
            for _ in range(days_before):
                on = self.calendar.on_or_before(on - timedelta(days=1))
            due = datetime.combine(on, REMINDER_AT, tzinfo=self.zone)
            if due <= self.clock.now():
                continue
            timer = {"_id": f"{view.conference_id}|reminder-{days_before}|v{view.version}",
                     "conference_id": view.conference_id, "purpose": f"reminder-{days_before}",
                     "version": view.version, "due_at": due, "status": "waiting"}
            try:
                await self.timers.insert_one(timer)
            except DuplicateKeyError:
                pass
            self._due(due)

    def _due(self, due: datetime) -> None:
        """A timer now falls due then: the next sweep comes no later."""
        if self._next_due is not None:
            self._next_due = min(self._next_due, due)

    async def send_due(self) -> None:
        """Reminders (for the conference as it stands now) and texts held back from quiet hours."""
        now = self.clock.now()
        if self._next_due is not None and now < self._next_due and wall.monotonic() < self._look_again:
            return
        self._look_again = wall.monotonic() + LOOK_AGAIN_SECONDS
        waiting = await self.timers.find({"status": "waiting"}).to_list()
        due = [t for t in waiting if t["due_at"] <= now]
        # After sending, look again at the next poll: sending may have set timers (texts held till morning).
        self._next_due = None if due else min([NOTHING_DUE, *(t["due_at"] for t in waiting)])
        for timer in due:
            try:
                await self._fire(timer)
            except (Unavailable, NotYet) as error:  # this one stays waiting; the timers after it still go
                log.warning("timer_not_yet_sent", timer_id=timer["_id"], reason=type(error).__name__)
                self._next_due = None

    async def _fire(self, timer: dict[str, Any]) -> None:
        """Send what the timer holds if the conference is still as it was when the timer was set; else skip it."""
        snapshot = await self.conferences.find_one({"_id": timer["conference_id"]})
        current = snapshot is not None and snapshot.get("status") == "scheduled" \
            and snapshot["version"] == timer["version"]
        if snapshot is not None and current:
            case = await self._case(snapshot["case_id"])
            if timer["purpose"].startswith("reminder"):
                view = self._view(snapshot, case)
                for invitee in view.invitees:
                    await self.deliver(view, case, invitee.participant_id, timer["purpose"], str(view.version))
            elif timer["purpose"] == "deferred_text":
                await self._send_deferred_text(timer, case)
        await self.timers.update_one({"_id": timer["_id"]}, {"$set": {"status": "done" if current else "skipped"}})

    # Reports and alerts ----------------------------------------------------------------------

    async def report_message(self, report: ReportRequested | ReportOverdue, purpose: str, version: str) -> None:
        snapshot = await self.conferences.find_one({"_id": report.conference_id})
        if snapshot is None:
            raise NotYet("the conference is not known here yet")
        if snapshot.get("status") == "cancelled":
            return
        if isinstance(report, ReportRequested) and report.share_with_family_by:
            await self.conferences.update_one({"_id": report.conference_id}, {"$set": {
                "family_report_by": report.share_with_family_by.isoformat()}})
        case = await self._case(snapshot["case_id"])
        view = self._view(snapshot, case)
        authors = [i for i in view.invitees if (i.agency == report.agency and i.role == "professional")
                   or (report.agency == "childrens_social_care" and i.role == "social_worker")]
        due = report.due_at.astimezone(self.zone).strftime("%A %-d %B, %-I:%M%p").lower()
        short_notice = isinstance(report, ReportRequested) and report.short_notice
        for author in authors:
            await self.deliver(view, case, author.participant_id, purpose, version,
                               extra={"due": due, "report_id": report.report_id,
                                      "short_notice": "yes" if short_notice else "no"})

    async def alert_team(self, conference_id: str, case_id: str | None, what_key: str, what: str, detail: str,
                         to_team_manager: bool = False) -> None:
        """An alert to the conference team (and the case's team manager): identifiers only, no family details."""
        snapshot = await self.conferences.find_one({"_id": conference_id})
        case_id = case_id or (snapshot or {}).get("case_id", "?")
        recipients: list[tuple[str, str]] = [(TEAM, self.team_mailbox)]
        if to_team_manager and (case := await self.contacts.find_one({"_id": case_id})):
            for pid, contact in case.get("participants", {}).items():
                address = self.seal.open(contact["sealed"]).get("email")
                if contact["role"] == "team_manager" and address:
                    recipients.append((pid, address))
        body = f"{what}\n\nConference: {conference_id}\nCase: {case_id}\n{detail}\n"
        message = Message(subject=f"Action needed: conference {conference_id}", body=body, language="en")
        for recipient_id, address in recipients:
            notification_id = "NTF-" + event_id(conference_id, recipient_id, "alert", what_key)

            async def send(address: str = address, notification_id: str = notification_id) -> bool:
                await self._email(address, message, notification_id, conference_id, "alert")
                return True

            await self._claim_and_send(conference_id, recipient_id, "alert", what_key, message, "email", send,
                                       notification_id=notification_id)

    # Sending once ------------------------------------------------------------------------------

    async def deliver(self, view: Conference, case: dict[str, Any], participant_id: str, purpose: str, version: str,
                      *, calendar: bool = False, extra: dict[str, str] | None = None) -> None:
        contact = case.get("participants", {}).get(participant_id)
        if contact is None:
            raise NotYet("contact details for an invitee not yet received")
        details = self.seal.open(contact["sealed"])
        recipient = Recipient(participant_id=participant_id, role=contact["role"], name=details.get("name"),
                              language=case.get("language", "en"))
        message = compose(purpose, view, recipient, self.zone, **(extra or {}))
        channel, refusal = self._channel(contact, details)
        notification_id = "NTF-" + event_id(view.conference_id, participant_id, purpose, version)
        ics = calendar_invite(view, cancelled=purpose.startswith("cancellation"), organiser=self.email.sender,
                              stamp=self.clock.now()) if calendar else None

        async def send() -> bool:
            if refusal:
                raise PermanentFailure(refusal)
            if channel == "email":
                await self._email(details["email"], message, notification_id, view.conference_id,
                                  purpose.split("-")[0], ics, cancelled=purpose.startswith("cancellation"))
            elif self._quiet_hours():
                await self._defer_text(notification_id, view, participant_id, message)
                return False
            else:
                await self._send_text(notification_id, case, participant_id, message.body)
            return True

        await self._claim_and_send(view.conference_id, participant_id, purpose.split("-")[0], version, message,
                                   channel, send, notification_id=notification_id)
        if message.translation_missing:
            await self.alert_team(view.conference_id, view.case_id, f"translation-{participant_id}",
                                  "A family member's language has no translated template yet: please arrange a "
                                  "translation of the message sent in English.", f"Language: {message.language} "
                                  f"requested as {case.get('language')}. Recipient: {participant_id}.")

    def _channel(self, contact: dict[str, Any], details: dict[str, Any]) -> tuple[Channel, str | None]:
        """The participant's preferred channel where we can use it, else e-mail if we have an address; and, when
        neither can be used, why (the message then fails on the channel the participant asked for)."""
        preferred: Channel = contact.get("preferred_channel") or "email"
        if preferred == "sms" and self.notify and details.get("phone"):
            return "sms", None
        if details.get("email"):
            return "email", None
        if preferred == "sms" and details.get("phone"):
            return "sms", "no text message service is configured"
        return preferred, f"no address to send by {preferred}" if preferred != "letter" else "letters are not sent "\
            "by this system"

    async def _claim_and_send(self, conference_id: str, recipient_id: str, purpose: str, version: str,
                              message: Message, channel: Channel, send: Callable[[], Awaitable[bool]],
                              notification_id: str | None = None) -> None:
        """Claims the message, then `send` it (True: sent now; False: held back, a timer sends it later)."""
        notification_id = notification_id or "NTF-" + event_id(conference_id, recipient_id, purpose, version)
        claim = {"_id": notification_id, "conference_id": conference_id, "recipient_id": recipient_id,
                 "purpose": purpose, "version": version, "status": "sending", "language": message.language}
        try:
            await self.messages.insert_one(claim)
        except DuplicateKeyError:
            existing = await self.messages.find_one({"_id": notification_id}, {"status": 1})
            if existing and existing["status"] != "sending":
                self.relay.notify(self.messages.name, notification_id)  # its event goes if it has not
                return  # sent, deferred or failed for good already: never twice
        now = self.clock.now()
        try:
            sent_now = await send()
        except PermanentFailure as failure:
            await self._failed(conference_id, notification_id, recipient_id, purpose, channel, failure,
                               expected={"status": "sending"})
            return
        except (TimeoutError, SMTPException, OSError, HTTPError, requests.RequestException) as error:
            raise SendFailed(type(error).__name__) from None
        if not sent_now:
            await self.messages.update_one({"_id": notification_id}, {"$set": {"status": "deferred"}})
            return
        sent = NotificationSent(conference_id=conference_id, notification_id=notification_id,
                                recipient_id=recipient_id, purpose=_purpose(purpose), channel=channel)
        await self.messages.update_one({"_id": notification_id}, {
            "$set": {"status": "sent", "channel": channel, "sent_at": now},
            "$push": {"outbox": outbox_entry(sent, at=now, cause=notification_id)}})
        self.relay.notify(self.messages.name, notification_id)
        log.info("notification_sent", conference_id=conference_id, notification_id=notification_id,
                 purpose=purpose, channel=channel)

    async def _failed(self, conference_id: str, notification_id: str, recipient_id: str, purpose: str,
                      channel: Channel, failure: PermanentFailure, expected: dict[str, Any]) -> None:
        """Failed for good: recorded once, announced, and the team asked to reach the person another way."""
        now = self.clock.now()
        failed = NotificationFailed(conference_id=conference_id, notification_id=notification_id,
                                    recipient_id=recipient_id, purpose=_purpose(purpose), channel=channel)
        await update_where(self.messages, notification_id, expected, {
            "$set": {"status": "failed", "channel": channel, "failure": str(failure)},
            "$push": {"outbox": outbox_entry(failed, at=now, cause=notification_id)}})
        self.relay.notify(self.messages.name, notification_id)
        log.warning("notification_failed", conference_id=conference_id, notification_id=notification_id,
                    channel=channel, reason=str(failure))
        if recipient_id != TEAM:
            await self.alert_team(conference_id, None, f"failed-{notification_id}",
                                  "A participant could not be reached: please contact them another way.",
                                  f"Recipient: {recipient_id}. Channel: {channel}. Reason: {failure}.")

    async def _email(self, address: str, message: Message, notification_id: str, conference_id: str, purpose: str,
                     ics: bytes | None = None, cancelled: bool = False) -> None:
        await self.email.send(to=address, subject=message.subject, body=message.body, message_id=notification_id,
                              conference_id=conference_id, purpose=purpose, calendar=ics, cancelled=cancelled)

    def _quiet_hours(self) -> bool:
        now = self.clock.now().astimezone(self.zone).time()
        return now >= QUIET_START or now < QUIET_END

    async def _defer_text(self, notification_id: str, view: Conference, participant_id: str, message: Message) -> None:
        local = self.clock.now().astimezone(self.zone)
        morning = datetime.combine(local.date() + timedelta(days=1 if local.time() >= QUIET_START else 0), QUIET_END,
                                   tzinfo=self.zone)
        try:
            await self.timers.insert_one({"_id": f"{notification_id}|text", "conference_id": view.conference_id,
                                          "purpose": "deferred_text", "version": view.version, "due_at": morning,
                                          "status": "waiting", "message_id": notification_id,
                                          "participant_id": participant_id, "body": self.seal.seal({"body": message.body})})
        except DuplicateKeyError:
            pass
        self._due(morning)

    async def _send_text(self, notification_id: str, case: dict[str, Any], participant_id: str, body: str) -> None:
        assert self.notify is not None
        phone = self.seal.open(case["participants"][participant_id]["sealed"])["phone"]
        await self.notify.send_sms(phone=phone, body=body, reference=notification_id)

    async def _send_deferred_text(self, timer: dict[str, Any], case: dict[str, Any]) -> None:
        notification_id = timer["message_id"]
        claim = await self.messages.find_one({"_id": notification_id})
        if claim is None or claim["status"] != "deferred":
            return
        try:
            await self._send_text(notification_id, case, timer["participant_id"], self.seal.open(timer["body"])["body"])
        except PermanentFailure as failure:
            await self._failed(timer["conference_id"], notification_id, timer["participant_id"], claim["purpose"],
                               "sms", failure, expected={"status": "deferred"})
            return
        except (HTTPError, requests.RequestException, OSError) as error:
            raise SendFailed(type(error).__name__) from None
        now = self.clock.now()
        sent = NotificationSent(conference_id=timer["conference_id"], notification_id=notification_id,
                                recipient_id=timer["participant_id"], purpose=_purpose(claim["purpose"]), channel="sms")
        await update_where(self.messages, notification_id, {"status": "deferred"}, {
            "$set": {"status": "sent", "channel": "sms", "sent_at": now},
            "$push": {"outbox": outbox_entry(sent, at=now, cause=notification_id)}})
        self.relay.notify(self.messages.name, notification_id)

def _purpose(purpose: str) -> str:
    return {"invitation": "invitation", "update": "update", "cancellation": "cancellation", "reminder": "reminder",
            "report_request": "report_request", "report_chaser": "report_chaser"}.get(purpose, "alert")
