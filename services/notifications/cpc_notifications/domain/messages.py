"""What each person is told, in their language where we have it: plain English for families (a reading
age of about nine), a short factual note for professionals."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import ModuleType
from zoneinfo import ZoneInfo

from cpc_shared.contracts.inbound import FAMILY_ROLES
from cpc_shared.contracts.outbound import Invitee
from cpc_shared.languages import long_date


@dataclass(frozen=True)
class Place:
    """Where the conference is, in words: an office and room, or how to join online."""

    office_address: str | None = None
    room_name: str | None = None
    step_free: bool = False
    meeting_link: str | None = None
    dial_in: str | None = None


@dataclass(frozen=True)
class Conference:
    conference_id: str
    case_id: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    statutory_deadline: date
    version: int
    invitees: list[Invitee]
    place: Place
    children: int = 1
    interpreter_needed: bool = False
    family_report_by: datetime | None = None


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    language: str
    translation_missing: bool = False


@dataclass(frozen=True)
class Recipient:
    participant_id: str
    role: str
    name: str | None = None
    language: str = "en"
    extra: dict = field(default_factory=dict)

    @property
    def is_family(self) -> bool:
        return self.role in FAMILY_ROLES


def templates(language: str) -> tuple[ModuleType, bool]:
    """The templates for `language`, or English and a flag that a translation is missing."""
    code = (language or "en").split("-")[0].lower()
    if code.isalpha():
        try:
            return importlib.import_module(f"cpc_notifications.domain.templates.{code}"), False
        except ModuleNotFoundError:
            pass
    return importlib.import_module("cpc_notifications.domain.templates.en"), code != "en"


def _when(conference: Conference, zone: ZoneInfo, t: ModuleType) -> dict[str, str]:
    start = conference.starts_at.astimezone(zone)
    minutes = int((conference.ends_at - conference.starts_at).total_seconds() // 60)
    if hasattr(t, "when"):  # a language that writes dates and times its own way
        return t.when(start, minutes)
    hours = f"{minutes // 60} hours" if minutes % 60 == 0 else f"{minutes / 60:.1f} hours".replace(".5", " and a half")
    return {"day": start.strftime("%A %-d %B %Y"), "time": start.strftime("%-I:%M%p").lower().replace(":00", ""),
            "hours": hours.replace("1 hours", "1 hour")}


def _where(t: ModuleType, place: Place, conference_id: str) -> str:
    if place.office_address:
        text = t.WHERE_IN_PERSON.format(room=place.room_name or "the meeting room", address=place.office_address,
                                        access=t.STEP_FREE if place.step_free else "").rstrip()
        if place.meeting_link:  # a hybrid room: others may join online
            text += "\n" + t.JOIN_ONLINE.format(link=place.meeting_link, phone=place.dial_in or "-",
                                                code=conference_id[-6:]).split("\n")[0]
        return text
    join = t.JOIN_ONLINE.format(link=place.meeting_link, phone=place.dial_in or "", code=conference_id[-6:])
    return join if place.dial_in else join.split("\n")[0]


def _people(t: ModuleType, invitees: list[Invitee]) -> str:
    """Who will be there, by role: never a name."""
    described = [t.SOMEONE_FROM.format(agency=t.AGENCIES[i.agency]) if i.role == "professional" and i.agency
                 else t.ROLES[i.role] for i in invitees]
    people = [t.CHAIR]
    for description in dict.fromkeys(described):
        count = described.count(description)
        plural = t.PLURALS.get(description)
        people += [plural.format(n=count)] if count > 1 and plural else [description] * count
    return "\n".join(f"  - {person}" for person in people)


def _family_form(t: ModuleType, recipient: Recipient, conference: Conference, zone: ZoneInfo, link: str | None,
                 language: str) -> str:
    """The paragraph that gives a parent, carer or child their own link to write their views before the meeting."""
    if not link:
        return ""
    closes = long_date(conference.starts_at.astimezone(zone).date() - timedelta(days=1), language, year=False)
    return (t.FAMILY_FORM_CHILD if recipient.role == "child" else t.FAMILY_FORM).format(link=link, closes=closes)


def compose(purpose: str, conference: Conference, recipient: Recipient, zone: ZoneInfo, **extra: str) -> Message:
    """The message for one recipient; `purpose` is invitation, update (update-people: only who comes
    changed), cancellation (cancellation-no_longer_invited: for a professional dropped from it), reminder,
    report_request, report_chaser, family_views (for the social worker: a family member wrote) or alert.
    `form_link` (a parent's, carer's or child's invitation): their own link to write their views."""
    t, missing = templates(recipient.language if recipient.is_family else "en")
    language = t.__name__.rsplit(".", 1)[-1]
    audience = "family" if recipient.is_family else "professional"
    fields = {
        "form": _family_form(t, recipient, conference, zone, extra.pop("form_link", None), language),
        "writer": t.ROLES.get(extra.pop("writer_role", ""), ""),
        **_when(conference, zone, t), "name": recipient.name or "", "conference_id": conference.conference_id,
        "case_id": conference.case_id, "kind": conference.kind.replace("_", " "),
        "children": t.children(conference.children) if hasattr(t, "children")
        else "your child" if conference.children <= 1 else "your children",
        "deadline": conference.statutory_deadline.strftime("%-d %B %Y"),
        "where": _where(t, conference.place, conference.conference_id), "people": _people(t, conference.invitees),
        "agenda": "\n".join(f"  {line}" for line in t.AGENDA),
        "interpreter": t.INTERPRETER_OFFERED if conference.interpreter_needed else t.INTERPRETER_ON_REQUEST,
        "report_by": "" if conference.family_report_by is None
        else t.report_by(conference.family_report_by.astimezone(zone)) if hasattr(t, "report_by")
        else " by " + conference.family_report_by.astimezone(zone).strftime("%A %-d %B"),
        **extra,
    }
    if purpose in ("invitation", "update", "update-people"):
        body = (t.FAMILY_INVITATION if recipient.is_family else t.PROFESSIONAL_INVITATION).format(**fields)
        if purpose == "update":
            body = t.UPDATE_PREFIX + body
        elif purpose == "update-people":  # the same time and place; who else comes has changed
            body, purpose = t.PEOPLE_UPDATE_PREFIX + body, "update"
    elif purpose == "cancellation-no_longer_invited" and not recipient.is_family:
        body, purpose = t.NO_LONGER_INVITED_PROFESSIONAL.format(**fields), "no_longer_invited"
    elif purpose == "cancellation":
        body = (t.CANCELLATION_FAMILY if recipient.is_family else t.CANCELLATION_PROFESSIONAL).format(**fields)
    elif purpose.startswith("reminder"):
        body = (t.REMINDER_FAMILY if recipient.is_family else t.REMINDER_PROFESSIONAL).format(**fields)
        purpose = "reminder"
    elif purpose == "report_request":
        short_notice = t.SHORT_NOTICE.format(**fields) if fields.get("short_notice") == "yes" else ""
        body, audience = t.REPORT_REQUEST.format(**{**fields, "short_notice": short_notice}), ""
    elif purpose == "report_chaser":
        body, audience = t.REPORT_CHASER.format(**fields), ""
    elif purpose == "family_views":
        body, audience = t.FAMILY_VIEWS_RECEIVED.format(**fields), ""
    elif purpose == "alert":
        body, audience = t.STAFF_ALERT.format(**fields), ""
    else:
        raise ValueError(f"no message for {purpose}")
    subject_key = f"{purpose}_{audience}" if audience else purpose
    return Message(subject=t.SUBJECTS[subject_key].format(**fields), body=body, language=language,
                   translation_missing=missing)
