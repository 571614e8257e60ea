"""The notifications service layer: one handler per event it takes, each deciding who is told what, and every
message sent once through `_send_all`: what one event causes is checked in one read, sent, and the notifications
stored with their outcomes in one write.

    ConferenceRequested /
    CaseDetailsChanged      -> remember_contacts     (sealed; nothing sent)
    ConferenceScheduled /
    ConferenceRescheduled   -> conference_scheduled  (invitations, updates, "no longer invited"; reminders planned)
    ConferenceCancelled     -> conference_cancelled  (cancellations; reminders cancelled)
    ReportRequested /
    ReportOverdue           -> report_message        (the report's authors: request, chaser)
    FamilyViewsReceived     -> family_views_received (the social worker: a family member wrote, never what)
    alerts for the team     -> alert_team            (deadline or quorum at risk, tasks, reports escalated)
    every few seconds       -> send_due              (reminders; texts held back from quiet hours)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import requests
from aiosmtplib import SMTPException
from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.clock import Clock
from cpc_shared.consumer import NotYet, Unavailable
from cpc_shared.contracts.inbound import FAMILY_ROLES, Family, Participant
from cpc_shared.contracts.outbound import (
    FAMILY_WRITERS,
    Channel,
    ConferenceArrangements,
    FamilyViewsReceived,
    Invitee,
    ReportOverdue,
    ReportRequested,
)
from cpc_shared.family_link import FamilyLink, FamilyLinks
from cpc_shared.logging import get_logger
from cpc_shared.profile import Profile
from cpc_shared.repository import Repository
from cpc_shared.sealing import Seal
from cpc_shared.timers import NextDue
from notifications_python_client.errors import HTTPError

from cpc_notifications.adapters.calendar import calendar_invite
from cpc_notifications.adapters.notify import PermanentFailure
from cpc_notifications.domain.messages import Conference, Message, Place, Recipient, compose
from cpc_notifications.domain.notification import Notification, NotificationStatus, Timer, TimerStatus

log = get_logger(__name__)
TEAM = "cpc-team"
WITH_FORM_LINK = ("invitation", "update", "update-people")  # what gives the family their link to the form
FORM_LINK_LASTS = timedelta(days=30)  # after the conference it was sent for; the form closes the day before anyway
QUIET_START, QUIET_END = time(20, 0), time(8, 0)  # no text messages in the evening or at night
REMINDER_AT = time(9, 0)
MEETING = ("starts_at", "ends_at", "attendance_mode", "office_id", "room_id", "meeting_link")  # what an update tells
CHANNEL_FAULTS = (TimeoutError, SMTPException, OSError, HTTPError, requests.RequestException)


class SendFailed(Unavailable):
    """The channel refused for now (server away): retried with backoff."""


class EmailChannel(Protocol):
    sender: str

    async def send(self, *, to: str, subject: str, body: str, message_id: str, conference_id: str, purpose: str,
                   calendar: bytes | None = None, cancelled: bool = False) -> None: ...


class Known(Protocol):
    """Cases (sealed contacts, language) and conferences as last told, kept from the events (adapters.store)."""

    async def case(self, case_id: str) -> dict[str, Any] | None: ...
    async def remember_case(self, case_id: str, fields: dict[str, Any]) -> None: ...
    async def conference(self, conference_id: str) -> dict[str, Any] | None: ...
    async def remember_conference(self, conference_id: str, fields: dict[str, Any]) -> None: ...


class TextChannel(Protocol):
    async def send_sms(self, *, phone: str, body: str, reference: str) -> None: ...


@dataclass
class Notifications:
    """What the handlers work with (wired by bootstrap.py; fakes in the tests)."""

    notifications: Repository[Notification]
    timers: Repository[Timer]
    known: Known
    seal: Seal
    email: EmailChannel
    texts: TextChannel | None
    profile: Profile
    calendar: WorkingDayCalendar
    clock: Clock
    team_mailbox: str
    links: FamilyLinks  # each parent's, carer's and child's own link to their form, in their invitation
    form_base_url: str  # where the reports service serves that form
    next_due: NextDue = field(default_factory=NextDue)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.profile.timezone)


# What we know ----------------------------------------------------------------------------------

async def remember_contacts(case_id: str, participants: list[Participant], family: Family | None, post: Notifications,
                            children: int | None = None) -> None:
    """Contact details arrive only on the inbound topic; they are kept sealed."""
    fields: dict[str, Any] = {
        f"participants.{_field(p.participant_id)}": {
            "role": p.role, "agency": p.agency, "preferred_channel": p.preferred_channel,
            "sealed": post.seal.seal({"name": p.name, "email": p.email, "phone": p.phone}),
        }
        for p in participants
    }
    if family:
        fields.update(language=family.language, interpreter_needed=family.interpreter_needed)
    if children:
        fields["children"] = children
    if fields:
        await post.known.remember_case(case_id, fields)


def _field(participant_id: str) -> str:
    """A participant's id as a field name in the store: `.` would be read as a path, so it (and `%`) is escaped."""
    return participant_id.replace("%", "%25").replace(".", "%2E")


def _participant(field: str) -> str:
    return field.replace("%2E", ".").replace("%25", "%")


def _view(snapshot: dict[str, Any], case: dict[str, Any] | None, profile: Profile) -> Conference:
    office = next((o for o in profile.offices if o.id == snapshot.get("office_id")), None)
    room = next((r for r in office.rooms if r.id == snapshot.get("room_id")), None) if office else None
    report_by = snapshot.get("family_report_by")
    return Conference(
        conference_id=snapshot["conference_id"], case_id=snapshot["case_id"], kind=snapshot["conference_type"],
        starts_at=datetime.fromisoformat(snapshot["starts_at"]), ends_at=datetime.fromisoformat(snapshot["ends_at"]),
        statutory_deadline=datetime.fromisoformat(snapshot["statutory_deadline"]).date(),
        version=snapshot["version"], invitees=[Invitee.model_validate(i) for i in snapshot["invitees"]],
        place=Place(office_address=office.address if office else None, room_name=room.name if room else None,
                    step_free=bool(room and room.step_free), meeting_link=snapshot.get("meeting_link"),
                    dial_in=profile.meeting_links.dial_in),
        children=(case or {}).get("children", 1), interpreter_needed=(case or {}).get("interpreter_needed", False),
        family_report_by=datetime.fromisoformat(report_by) if report_by else None,
    )


async def _case(case_id: str, post: Notifications) -> dict[str, Any]:
    case = await post.known.case(case_id)
    if case is None:
        raise NotYet("contact details for this case not yet received")
    return case


# The conference's life -----------------------------------------------------------------------

async def conference_scheduled(conference: ConferenceArrangements, post: Notifications) -> None:
    snapshot = conference.model_dump(mode="json")
    known = await post.known.conference(conference.conference_id)
    if known and known["version"] > conference.version:
        return  # an older version, redelivered
    case = await _case(conference.case_id, post)
    if known and known.get("family_report_by"):
        snapshot["family_report_by"] = known["family_report_by"]
    # What the participants knew before this version (kept, so a redelivery compares as the first time did).
    if known and known["version"] == conference.version:
        before = known.get("before")
    else:
        before = {field: known.get(field) for field in ("invitees", *MEETING)} if known else None
    await post.known.remember_conference(conference.conference_id, {**snapshot, "status": "scheduled", "before": before})
    view = _view(snapshot, case, post.profile)
    earlier = {i["participant_id"]: i for i in (before or {}).get("invitees") or []}
    now_invited = {i.participant_id: i.model_dump() for i in conference.invitees}
    same_meeting = before is not None and all(before.get(field) == snapshot.get(field) for field in MEETING)
    same_people = earlier == now_invited
    outgoing = []
    for invitee in conference.invitees:
        if invitee.participant_id not in earlier:
            purpose = "invitation"  # new to this conference (or its first version)
        elif not same_meeting:
            purpose = "update"
        elif not same_people:
            purpose = "update-people"  # the invitation lists who will be there: families should know
        else:
            continue  # nothing they would see has changed
        outgoing.append(_message(view, case, invitee.participant_id, purpose, str(conference.version), post,
                                 calendar=True))
    # A professional dropped from the conference takes it out of their diary; a family member who is no
    # longer invited hears it from their social worker, not from us.
    for participant_id, invitee in earlier.items():
        if participant_id not in now_invited and invitee["role"] not in FAMILY_ROLES:
            outgoing.append(_message(view, case, participant_id, "cancellation-no_longer_invited",
                                     str(conference.version), post, calendar=True))
    await _send_all(outgoing, post)
    await _plan_reminders(view, post)


async def conference_cancelled(conference_id: str, post: Notifications) -> None:
    for timer in await post.timers.find({"conference_id": conference_id, "status": TimerStatus.WAITING.value}):
        timer.cancel()
        await post.timers.save(timer)
    snapshot = await post.known.conference(conference_id)
    if snapshot is None:
        return  # never scheduled, so nobody was told of it
    await post.known.remember_conference(conference_id, {"status": "cancelled"})
    case = await _case(snapshot["case_id"], post)
    view = _view(snapshot, case, post.profile)
    cancelled = replace(view, version=view.version + 1)  # the calendar invitation's next sequence
    await _send_all([_message(cancelled, case, invitee.participant_id, "cancellation", "final", post, calendar=True)
                     for invitee in view.invitees], post)


async def _plan_reminders(view: Conference, post: Notifications) -> None:
    day = view.starts_at.astimezone(post.zone).date()
    reminders = []
    for days_before in post.profile.policy_on(day).reminder_working_days_before:
        on = day
        for _ in range(days_before):
            on = post.calendar.on_or_before(on - timedelta(days=1))
        due = datetime.combine(on, REMINDER_AT, tzinfo=post.zone)
        if due > post.clock.now():
            reminders.append(Timer.reminder(view.conference_id, days_before, view.version, due))
    await post.timers.add_many(reminders)  # those there already (a redelivery) are left as they are
    for reminder in reminders:
        post.next_due.due(reminder.due_at)


async def send_due(post: Notifications) -> None:
    """Reminders (for the conference as it stands now) and texts held back from quiet hours."""
    now = post.clock.now()
    if not post.next_due.time_to_look(now):
        return
    waiting = await post.timers.find({"status": TimerStatus.WAITING.value})
    due = sorted((timer for timer in waiting if timer.due_at <= now), key=lambda timer: timer.due_at)  # oldest first
    post.next_due.looked(timer.due_at for timer in waiting)
    if due:  # sending may set timers (texts held till morning): look again at the next poll
        post.next_due.look_soon()
    for timer in due:
        try:
            await _fire(timer, post)
        except (Unavailable, NotYet) as error:  # this one stays waiting; the timers after it still go
            log.warning("timer_not_yet_sent", timer_id=timer.id, reason=type(error).__name__)
            post.next_due.look_soon()


async def _fire(timer: Timer, post: Notifications) -> None:
    """Send what the timer holds if the conference is still as it was when the timer was set; else skip it."""
    snapshot = await post.known.conference(timer.conference_id)
    current = snapshot is not None and snapshot.get("status") == "scheduled" \
        and snapshot["version"] == timer.conference_version
    if snapshot is not None and current:
        case = await _case(snapshot["case_id"], post)
        if timer.purpose.startswith("reminder"):
            view = _view(snapshot, case, post.profile)
            await _send_all([_message(view, case, invitee.participant_id, timer.purpose, str(view.version), post)
                             for invitee in view.invitees], post)
        elif timer.purpose == "deferred_text":
            await _send_deferred_text(timer, case, post)
    timer.fired(current)
    await post.timers.save(timer)


# Reports and alerts --------------------------------------------------------------------------

async def report_message(report: ReportRequested | ReportOverdue, purpose: str, version: str, post: Notifications) -> None:
    snapshot = await post.known.conference(report.conference_id)
    if snapshot is None:
        raise NotYet("the conference is not known here yet")
    if snapshot.get("status") == "cancelled":
        return
    if isinstance(report, ReportRequested) and report.share_with_family_by:
        await post.known.remember_conference(report.conference_id,
                                             {"family_report_by": report.share_with_family_by.isoformat()})
    case = await _case(snapshot["case_id"], post)
    view = _view(snapshot, case, post.profile)
    authors = [i for i in view.invitees if (i.agency == report.agency and i.role == "professional")
               or (report.agency == "childrens_social_care" and i.role == "social_worker")]
    due = report.due_at.astimezone(post.zone).strftime("%A %-d %B, %-I:%M%p").lower()
    short_notice = isinstance(report, ReportRequested) and report.short_notice
    extra = {"due": due, "report_id": report.report_id, "short_notice": "yes" if short_notice else "no"}
    await _send_all([_message(view, case, author.participant_id, purpose, version, post, extra=extra)
                     for author in authors], post)


async def family_views_received(received: FamilyViewsReceived, post: Notifications) -> None:
    """The first time a parent, carer or child saves their views, their social worker is told (not what they wrote:
    that stays with reports, for the chair)."""
    if received.version != 1:
        return
    snapshot = await post.known.conference(received.conference_id)
    if snapshot is None:
        raise NotYet("the conference is not known here yet")
    if snapshot.get("status") == "cancelled":
        return
    case = await _case(snapshot["case_id"], post)
    view = _view(snapshot, case, post.profile)
    await _send_all([_message(view, case, worker.participant_id, "family_views", received.contribution_id, post,
                              extra={"writer_role": received.role})
                     for worker in view.invitees if worker.role == "social_worker"], post)


async def alert_team(conference_id: str, case_id: str | None, what_key: str, what: str, detail: str,
                     post: Notifications, to_team_manager: bool = False) -> None:
    """An alert to the conference team (and the case's team manager): identifiers only, no family details."""
    snapshot = await post.known.conference(conference_id)
    case_id = case_id or (snapshot or {}).get("case_id", "?")
    recipients: list[tuple[str, str]] = [(TEAM, post.team_mailbox)]
    if to_team_manager and (case := await post.known.case(case_id)):
        for key, contact in case.get("participants", {}).items():
            pid = _participant(key)
            address = post.seal.open(contact["sealed"]).get("email")
            if contact["role"] == "team_manager" and address:
                recipients.append((pid, address))
    body = f"{what}\n\nConference: {conference_id}\nCase: {case_id}\n{detail}\n"
    message = Message(subject=f"Action needed: conference {conference_id}", body=body, language="en")
    outgoing = []
    for recipient_id, address in recipients:
        notification = Notification.claim(Notification.id_for(conference_id, recipient_id, "alert", what_key),
                                          conference_id, recipient_id, "alert", what_key, message.language)

        async def send(address: str = address, notification_id: str = notification.id) -> bool:
            await post.email.send(to=address, subject=message.subject, body=message.body, message_id=notification_id,
                                  conference_id=conference_id, purpose="alert")
            return True

        outgoing.append(Outgoing(notification, "email", send))
    await _send_all(outgoing, post)


# Sending once ----------------------------------------------------------------------------------

@dataclass
class Outgoing:
    """One message ready to go: its notification (not yet stored), the channel, and how to send it (`send` returns
    True when sent now, False when held back for a timer to send later)."""

    notification: Notification
    channel: Channel
    send: Callable[[], Awaitable[bool]]
    translation_missing: str | None = None  # the language asked for, when the message went in English instead


def _message(view: Conference, case: dict[str, Any], participant_id: str, purpose: str, version: str,
             post: Notifications, *, calendar: bool = False, extra: dict[str, str] | None = None) -> Outgoing:
    contact = case.get("participants", {}).get(_field(participant_id))
    if contact is None:
        raise NotYet("contact details for an invitee not yet received")
    details = post.seal.open(contact["sealed"])
    recipient = Recipient(participant_id=participant_id, role=contact["role"], name=details.get("name"),
                          language=case.get("language", "en"))
    extra = dict(extra or {})
    if recipient.role in FAMILY_WRITERS and purpose in WITH_FORM_LINK:
        extra["form_link"] = post.links.url(post.form_base_url, FamilyLink(
            conference_id=view.conference_id, participant_id=participant_id, language=recipient.language,
            expires_at=view.starts_at + FORM_LINK_LASTS))
    message = compose(purpose, view, recipient, post.zone, **extra)
    channel, refusal = _channel(contact, details, post)
    notification = Notification.claim(Notification.id_for(view.conference_id, participant_id, purpose, version),
                                      view.conference_id, participant_id, purpose.split("-")[0], version,
                                      message.language)
    cancelled = purpose.startswith("cancellation")

    async def send() -> bool:
        if refusal:
            raise PermanentFailure(refusal)
        if channel == "email":
            ics = calendar_invite(view, cancelled=cancelled, organiser=post.email.sender, stamp=post.clock.now()) \
                if calendar else None
            await post.email.send(to=details["email"], subject=message.subject, body=message.body,
                                  message_id=notification.id, conference_id=view.conference_id,
                                  purpose=purpose.split("-")[0], calendar=ics, cancelled=cancelled)
        elif _quiet_hours(post):
            await _defer_text(notification.id, view, participant_id, message, post)
            return False
        else:
            await _send_text(notification.id, case, participant_id, message.body, post)
        return True

    return Outgoing(notification, channel, send, str(case.get("language")) if message.translation_missing else None)


async def _send_all(outgoing: list[Outgoing], post: Notifications) -> None:
    """Send what one event causes, each message once: those already stored (sent, held back or failed for good)
    are not sent again, only their events published if they have not been. One read finds them; the others are
    sent one by one, then stored with their outcomes and events in one write.

    A process that stops after sending and before that write sends them again when the event comes again; the
    mail's Message-ID is the same, so a mail system can recognise the copy. A channel that fails for now stops
    the round: what was sent before it is stored, and the event is tried again for the rest."""
    outgoing = list({item.notification.id: item for item in outgoing}.values())
    if not outgoing:
        return
    stored = await post.notifications.get_many(item.notification.id for item in outgoing)
    done: list[tuple[Outgoing, Notification]] = []
    fault: SendFailed | None = None
    for item in outgoing:
        notification = stored.get(item.notification.id, item.notification)
        if notification.settled:
            post.notifications.republish(notification.id)  # its event goes if it has not
            continue
        # Not stored, or stored `sending` by an earlier version that claimed before it sent: send (again).
        try:
            sent_now = await item.send()
        except PermanentFailure as failure:
            notification.failed(item.channel, str(failure), post.clock.now())
        except CHANNEL_FAULTS as error:
            fault = SendFailed(type(error).__name__)
            break
        else:
            if sent_now:
                notification.sent(item.channel, post.clock.now())
            else:
                notification.deferred()
        done.append((item, notification))
    new = [notification for item, notification in done if notification.id not in stored]
    for there_already in await post.notifications.add_many(new):  # another process was quicker: never twice
        post.notifications.republish(there_already.id)
    for _, notification in done:
        if notification.id in stored:
            await post.notifications.save(notification)
    for item, notification in done:
        await _settled(item, notification, post)
    if fault is not None:
        raise fault


async def _settled(item: Outgoing, notification: Notification, post: Notifications) -> None:
    """What follows a stored outcome: the log line, and the team told of a failure or a missing translation."""
    if notification.status == NotificationStatus.SENT:
        log.info("notification_sent", conference_id=notification.conference_id, notification_id=notification.id,
                 purpose=notification.purpose, channel=item.channel)
    elif notification.status == NotificationStatus.FAILED:
        await _announce_failure(notification, post)
    if item.translation_missing is not None:
        recipient = notification.recipient_id
        await alert_team(notification.conference_id, None, f"translation-{recipient}",
                         "A family member's language has no translated template yet: please arrange a translation "
                         "of the message sent in English.", f"Language: {notification.language} requested as "
                         f"{item.translation_missing}. Recipient: {recipient}.", post)


def _channel(contact: dict[str, Any], details: dict[str, Any], post: Notifications) -> tuple[Channel, str | None]:
    """The participant's preferred channel where we can use it, else e-mail if we have an address; and, when
    neither can be used, why (the message then fails on the channel the participant asked for)."""
    preferred: Channel = contact.get("preferred_channel") or "email"
    if preferred == "sms" and post.texts and details.get("phone"):
        return "sms", None
    if details.get("email"):
        return "email", None
    if preferred == "sms" and details.get("phone"):
        return "sms", "no text message service is configured"
    return preferred, f"no address to send by {preferred}" if preferred != "letter" else "letters are not sent "\
        "by this system"


async def _failed(notification: Notification, channel: Channel, failure: PermanentFailure, post: Notifications) -> None:
    """A deferred text failed for good: recorded once, announced."""
    notification.failed(channel, str(failure), post.clock.now())
    await post.notifications.save(notification)
    await _announce_failure(notification, post)


async def _announce_failure(notification: Notification, post: Notifications) -> None:
    """Failed for good: logged, and the team asked to reach the person another way."""
    log.warning("notification_failed", conference_id=notification.conference_id, notification_id=notification.id,
                channel=notification.channel, reason=notification.failure)
    if notification.recipient_id != TEAM:
        await alert_team(notification.conference_id, None, f"failed-{notification.id}",
                         "A participant could not be reached: please contact them another way.",
                         f"Recipient: {notification.recipient_id}. Channel: {notification.channel}. "
                         f"Reason: {notification.failure}.", post)


def _quiet_hours(post: Notifications) -> bool:
    now = post.clock.now().astimezone(post.zone).time()
    return now >= QUIET_START or now < QUIET_END


async def _defer_text(notification_id: str, view: Conference, participant_id: str, message: Message,
                      post: Notifications) -> None:
    local = post.clock.now().astimezone(post.zone)
    morning = datetime.combine(local.date() + timedelta(days=1 if local.time() >= QUIET_START else 0), QUIET_END,
                               tzinfo=post.zone)
    await post.timers.add(Timer.deferred_text(notification_id, view.conference_id, view.version, participant_id,
                                              post.seal.seal({"body": message.body}), morning))
    post.next_due.due(morning)


async def _send_text(notification_id: str, case: dict[str, Any], participant_id: str, body: str,
                     post: Notifications) -> None:
    assert post.texts is not None
    phone = post.seal.open(case["participants"][_field(participant_id)]["sealed"])["phone"]
    await post.texts.send_sms(phone=phone, body=body, reference=notification_id)


async def _send_deferred_text(timer: Timer, case: dict[str, Any], post: Notifications) -> None:
    assert timer.message_id and timer.participant_id and timer.body
    notification = await post.notifications.get(timer.message_id)
    if notification is None or notification.status != NotificationStatus.DEFERRED:
        return
    try:
        await _send_text(notification.id, case, timer.participant_id, post.seal.open(timer.body)["body"], post)
    except PermanentFailure as failure:
        await _failed(notification, "sms", failure, post)
        return
    except (HTTPError, requests.RequestException, OSError) as error:
        raise SendFailed(type(error).__name__) from None
    notification.sent("sms", post.clock.now())
    await post.notifications.save(notification)
