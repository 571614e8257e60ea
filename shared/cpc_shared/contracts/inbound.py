"""Inbound events on `casemgmt.events`, exactly as CONTRACTS.md fixes them.

Unknown extra fields are ignored (adding an optional field is a compatible change); anything that
breaks a rule below is bad input and goes to the dead-letter topic with the reason.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

ConferenceType = Literal["initial", "review", "transfer_in", "pre_birth"]
PreviousConferenceType = Literal["initial", "transfer_in", "pre_birth", "review"]
Role = Literal["parent", "carer", "child", "social_worker", "team_manager", "professional", "advocate", "interpreter"]
Agency = Literal["childrens_social_care", "health", "police", "education", "probation", "housing", "other"]
Channel = Literal["email", "sms", "letter"]
Outcome = Literal["plan_started", "plan_continued", "plan_ended", "no_plan"]

FAMILY_ROLES: frozenset[str] = frozenset({"parent", "carer", "child", "advocate", "interpreter"})

NonEmpty = Field(min_length=1, max_length=200)


class InboundEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    type: ClassVar[str]


class Child(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    child_id: str = NonEmpty


class Location(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Family(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    postcode: str | None = Field(None, max_length=10)
    location: Location | None = None
    language: str = Field("en", min_length=2, max_length=35)
    interpreter_needed: bool = False
    accessibility_needs: list[str] = Field(default_factory=list)


class Participant(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    participant_id: str = NonEmpty
    role: Role
    agency: Agency | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    preferred_channel: Channel | None = None

    @property
    def is_family(self) -> bool:
        return self.role in FAMILY_ROLES


class ConferenceRequested(InboundEvent):
    type: ClassVar[str] = "casemgmt.ConferenceRequested.v1"

    request_id: str = NonEmpty
    case_id: str = NonEmpty
    conference_type: ConferenceType
    basis_date: date
    expected_birth_date: date | None = None
    previous_conference_id: str | None = None
    previous_conference_type: PreviousConferenceType | None = None
    children: list[Child] = Field(default_factory=list)
    family: Family
    participants: list[Participant] = Field(min_length=1)
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

    conference_id: str = NonEmpty
    case_id: str = NonEmpty
    held_on: date
    outcome: Outcome
    quorate: bool


class CaseDetailsChanged(InboundEvent):
    type: ClassVar[str] = "casemgmt.CaseDetailsChanged.v1"

    case_id: str = NonEmpty
    family: Family | None = None
    participants: list[Participant] | None = None


class ConferenceCancellationRequested(InboundEvent):
    type: ClassVar[str] = "casemgmt.ConferenceCancellationRequested.v1"

    case_id: str = NonEmpty
    conference_id: str | None = None
    reason: str = Field(min_length=1, max_length=2000)
