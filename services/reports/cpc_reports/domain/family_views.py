"""The family's views before the conference: what a parent, carer or child wrote on their form, kept sealed.

    (none) ──save──> saved, version 1 ──save again──> version 2 ...   while the form is open:
    until the end of the day before the conference as it stands now (a new date counts); never once it is
    cancelled, nor for someone no longer invited.

Each save records `FamilyViewsReceived`: ids, role, time and version, never a word of what was written.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, time
from typing import ClassVar, cast
from zoneinfo import ZoneInfo

from cpc_shared.contracts.outbound import FAMILY_WRITERS, FamilyRole, FamilyViewsReceived
from cpc_shared.envelope import event_id
from cpc_shared.repository import Aggregate

from cpc_reports.domain.report import ConferenceReports, Refused

# What a parent or carer is asked, and (simpler, the "three houses" social workers use with children) a child.
ADULT_QUESTIONS = ("going_well", "worries", "would_help", "meeting_should_know")
CHILD_QUESTIONS = ("good_things", "worries", "wishes")
MAX_ANSWER_CHARS = 4000  # about two pages each
MAX_FORM_BYTES = 64 * 1024  # every answer at its longest, in any script, fits; anything bigger is refused unread

Answers = dict[str, str]


def questions_for(role: str) -> tuple[str, ...]:
    return CHILD_QUESTIONS if role == "child" else ADULT_QUESTIONS


def answers_from(form: dict[str, str], role: str) -> Answers:
    """The answers to this person's questions, as they wrote them (line breaks kept, control characters and
    surrounding blanks dropped); other fields are ignored. Refused (413) when one is too long."""
    answers: Answers = {}
    for question in questions_for(role):
        text = "".join(c for c in form.get(question, "").replace("\r\n", "\n")
                       if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn")).strip()
        if len(text) > MAX_ANSWER_CHARS:
            raise Refused(413, question)
        answers[question] = text
    return answers


def closes_at(conference: ConferenceReports, zone: ZoneInfo) -> datetime:
    """The end of the day before the conference, where the council is."""
    return datetime.combine(conference.starts_at.astimezone(zone).date(), time(0), tzinfo=zone)


@dataclass(frozen=True)
class Writer:
    """Who is writing, for which conference, until when."""

    conference_id: str
    participant_id: str
    role: FamilyRole
    closes_at: datetime


def writer_for(conference: ConferenceReports | None, participant_id: str, zone: ZoneInfo, now: datetime) -> Writer:
    """The person the link was made for, if they may still write for this conference; else refused with why."""
    if conference is None:
        raise Refused(404, "unknown_conference")
    if conference.status == "cancelled":
        raise Refused(410, "cancelled")
    role = conference.family.get(participant_id)
    if role not in FAMILY_WRITERS:
        raise Refused(403, "not_invited")
    closing = closes_at(conference, zone)
    if now >= closing:
        raise Refused(410, "closed")
    return Writer(conference.id, participant_id, cast(FamilyRole, role), closing)


class FamilyViews(Aggregate):
    """One person's views for one conference: their answers sealed (never in clear in the store)."""

    collection: ClassVar[str] = "family_views"

    conference_id: str
    participant_id: str
    role: FamilyRole
    sealed_answers: str
    version: int = 0
    first_saved_at: datetime
    saved_at: datetime

    @staticmethod
    def id_for(conference_id: str, participant_id: str) -> str:
        return "FV-" + event_id("family-views", conference_id, participant_id)[:13].upper().replace("-", "")

    @classmethod
    def first(cls, writer: Writer, sealed_answers: str, now: datetime) -> FamilyViews:
        views = cls(id=cls.id_for(writer.conference_id, writer.participant_id), conference_id=writer.conference_id,
                    participant_id=writer.participant_id, role=writer.role, sealed_answers=sealed_answers,
                    first_saved_at=now, saved_at=now)
        views._received(now)
        return views

    def save(self, sealed_answers: str, now: datetime) -> None:
        self.sealed_answers, self.saved_at = sealed_answers, now
        self._received(now)

    def _received(self, now: datetime) -> None:
        self.version += 1
        self.record(FamilyViewsReceived(conference_id=self.conference_id, contribution_id=self.id,
                                        participant_id=self.participant_id, role=self.role, received_at=now,
                                        version=self.version), at=now, cause=f"{self.id}|v{self.version}")
