"""Inbound events on `casemgmt.events`, exactly as CONTRACTS.md fixes them.

Unknown extra fields are ignored (adding an optional field is a compatible change); anything that
breaks a rule below is bad input and goes to the dead-letter topic with the reason.

Identifiers, codes, the postcode and the language travel on in outbound events, and names go into messages to
families: each is held to what it can be (letters, digits and a few separators; no control characters, no
markup), so nothing from outside becomes an id, a document path or a line of a mail that it should not.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

ConferenceType = Literal["initial", "review", "transfer_in", "pre_birth"]
PreviousConferenceType = Literal["initial", "transfer_in", "pre_birth", "review"]
Role = Literal["parent", "carer", "child", "social_worker", "team_manager", "professional", "advocate", "interpreter"]
Agency = Literal["childrens_social_care", "health", "police", "education", "probation", "housing", "other"]
Channel = Literal["email", "sms", "letter"]
Outcome = Literal["plan_started", "plan_continued", "plan_ended", "no_plan"]

MAX_PARTICIPANTS = 200  # a conference of a large family with every agency has some 30
MAX_CHILDREN = 30

FAMILY_ROLES: frozenset[str] = frozenset({"parent", "carer", "child", "advocate", "interpreter"})

# An identifier from the case-management system: it becomes a Kafka key and a document id, and travels on in
# events. Letters and digits, and the separators ids are written with (`_ - : . /`); nothing that is markup, an
# operator (`$`) or a control character.
Id = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]
LanguageTag = Annotated[str, Field(min_length=2, max_length=35, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")]
Postcode = Annotated[str, Field(max_length=10, pattern=r"^[A-Za-z0-9 ]*$")]
# Loose on purpose: a mistyped address or number fails when the message is sent and the team is told; it must
# not stop the conference being scheduled. Only what cannot be an address (spaces, line breaks, markup) is refused.
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s<>]+@[^@\s<>]+$")]
Phone = Annotated[str, Field(max_length=30, pattern=r"^[^<>]*$")]


def _plain_text(value: str) -> str:
    """Text a person wrote, fit to be put into a message: no control or formatting characters (line breaks,
    NUL, escape sequences, right-to-left overrides) and no markup."""
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in value):
        raise ValueError("must not contain control or formatting characters")
    if any(c in "<>" for c in value):
        raise ValueError("must not contain markup (< or >)")
    return value


Name = Annotated[str, Field(max_length=200), AfterValidator(_plain_text)]
PlainPhone = Annotated[Phone, AfterValidator(_plain_text)]
PlainEmail = Annotated[Email, AfterValidator(_plain_text)]
Need = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_plain_text)]


class InboundEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    type: ClassVar[str]


class Child(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    child_id: Id


class Location(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Family(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    postcode: Postcode | None = None
    location: Location | None = None
    language: LanguageTag = "en"
    interpreter_needed: bool = False
    accessibility_needs: list[Need] = Field(default_factory=list, max_length=20)


class Participant(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    participant_id: Id
    role: Role
    agency: Agency | None = None
    name: Name | None = None
    email: PlainEmail | None = None
    phone: PlainPhone | None = None
    preferred_channel: Channel | None = None

    @property
    def is_family(self) -> bool:
        return self.role in FAMILY_ROLES


class ConferenceRequested(InboundEvent):
    type: ClassVar[str] = "casemgmt.ConferenceRequested.v1"

    request_id: Id
    case_id: Id
    conference_type: ConferenceType
    basis_date: date
    expected_birth_date: date | None = None
    previous_conference_id: Id | None = None
    previous_conference_type: PreviousConferenceType | None = None
    children: list[Child] = Field(default_factory=list, max_length=MAX_CHILDREN)
    family: Family
    participants: list[Participant] = Field(min_length=1, max_length=MAX_PARTICIPANTS)
    requested_at: AwareDatetime

    @model_validator(mode="after")
    def _rules(self) -> ConferenceRequested:
        if self.conference_type == "pre_birth" and self.expected_birth_date is None:
            raise ValueError("a pre_birth conference needs expected_birth_date")
        ids = [p.participant_id for p in self.participants]
        if len(ids) != len(set(ids)):
            raise ValueError("participant_id values must be unique")
        return self


class ConferenceOutcomeRecorded(InboundEvent):
    type: ClassVar[str] = "casemgmt.ConferenceOutcomeRecorded.v1"

    conference_id: Id
    case_id: Id
    held_on: date
    outcome: Outcome
    quorate: bool


class CaseDetailsChanged(InboundEvent):
    type: ClassVar[str] = "casemgmt.CaseDetailsChanged.v1"

    case_id: Id
    family: Family | None = None
    participants: list[Participant] | None = Field(None, max_length=MAX_PARTICIPANTS)


class ConferenceCancellationRequested(InboundEvent):
    type: ClassVar[str] = "casemgmt.ConferenceCancellationRequested.v1"

    case_id: Id
    conference_id: Id | None = None
    reason: str = Field(min_length=1, max_length=2000)  # stays in the council's system: never stored or sent on
