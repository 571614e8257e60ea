"""The published language for partner systems, on the public `partner.*` topics (the partners service writes them).

Identifiers, dates, codes and statuses only: never a name, address, e-mail, phone number or free text. Each
event type is versioned (`.v1`): a version only ever gains optional fields; anything else is a new version
published beside it (see README, "For partner developers", and the snapshots in docs/asyncapi/schemas/partner/).

    partner.cpis.plans               NHS CP-IS: a child's protection plan started or ended; key child_id
                                     (the case id for an unborn child, who has no child id yet)
    partner.agency.<agency>          one agency: its invitations, report requests, overdue reports and the
                                     outcomes of conferences it was invited to; key conference_id
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from cpc_shared.contracts.inbound import Agency, ConferenceType, Outcome
from cpc_shared.contracts.outbound import AttendanceMode

CPIS_TOPIC = "partner.cpis.plans"
AGENCY_TOPIC_PREFIX = "partner.agency."
AGENCIES: tuple[str, ...] = get_args(Agency)


def agency_topic(agency: str) -> str:
    if agency not in AGENCIES:
        raise ValueError(f"no partner topic for agency {agency!r}")
    return AGENCY_TOPIC_PREFIX + agency


PARTNER_TOPICS: tuple[str, ...] = (CPIS_TOPIC, *(agency_topic(agency) for agency in AGENCIES))


class PartnerEvent(BaseModel):
    """What every partner event is: a frozen payload with its CloudEvents type; extra fields are ignored on
    reading, so a partner's own models keep working as optional fields are added."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    type: ClassVar[str]
    key_field: ClassVar[str] = "conference_id"
    summary: ClassVar[str]
    channel: ClassVar[str]  # the topic, or its pattern (partner.agency.{agency})

    @property
    def key(self) -> str:
        return str(getattr(self, self.key_field))

    @property
    def topic(self) -> str:
        raise NotImplementedError


# partner.cpis.plans --------------------------------------------------------------------------


class _PlanEvent(PartnerEvent):
    key_field: ClassVar[str] = "subject_id"
    channel: ClassVar[str] = CPIS_TOPIC

    subject_id: str = Field(description="The record's key: the child id, or for an unborn child the case id.")
    child_id: str | None = Field(description="The child's id in the council's case-management system; null for an "
                                 "unborn child.")
    unborn: bool = Field(False, description="The plan was made at a pre-birth conference for a child not yet born "
                         "(and so with no child id yet).")
    expected_birth_month: str | None = Field(None, pattern=r"^\d{4}-\d{2}$", description="For an unborn child: the "
                                             "month the birth is expected (YYYY-MM); otherwise null.")
    case_id: str = Field(description="The council's case id.")
    council_id: str | None = Field(description="The local authority's code (ONS GSS code), from the council's profile.")
    council_name: str = Field(description="The local authority's name.")
    conference_id: str = Field(description="The conference that decided.")

    @property
    def topic(self) -> str:
        return CPIS_TOPIC


class ChildProtectionPlanStarted(_PlanEvent):
    """A conference decided that the child needs a child protection plan, starting on the day it was held."""

    type: ClassVar[str] = "cpc.partner.ChildProtectionPlanStarted.v1"
    summary: ClassVar[str] = "A child protection plan started"

    plan_start_date: date = Field(description="The day the conference was held.")


class ChildProtectionPlanEnded(_PlanEvent):
    """A conference decided that the child no longer needs a child protection plan."""

    type: ClassVar[str] = "cpc.partner.ChildProtectionPlanEnded.v1"
    summary: ClassVar[str] = "A child protection plan ended"

    plan_start_date: date | None = Field(description="When the plan started, if this system saw it start.")
    plan_end_date: date = Field(description="The day the conference that ended it was held.")


# partner.agency.<agency> ---------------------------------------------------------------------


class _AgencyEvent(PartnerEvent):
    channel: ClassVar[str] = AGENCY_TOPIC_PREFIX + "{agency}"

    agency: Agency = Field(description="The agency whose topic carries this event.")
    conference_id: str = Field(description="The conference.")

    @property
    def topic(self) -> str:
        return agency_topic(self.agency)


class AgencyInvited(_AgencyEvent):
    """The agency's people are invited to a conference, or its arrangements changed (a higher `version`): the
    newest version holds."""

    type: ClassVar[str] = "cpc.partner.AgencyInvited.v1"
    summary: ClassVar[str] = "The agency is invited to a conference (or its arrangements changed)"

    case_id: str = Field(description="The council's case id.")
    conference_type: ConferenceType
    version: int = Field(ge=1, description="The arrangements' version: a later one replaces an earlier.")
    starts_at: datetime
    ends_at: datetime
    attendance_mode: AttendanceMode
    office_id: str | None = Field(description="The council office it is held in; null when virtual.")
    participant_ids: list[str] = Field(description="The agency's people invited, by participant id.")


class AgencyInvitationWithdrawn(_AgencyEvent):
    """The agency is no longer expected: the conference was cancelled, or none of its people is invited now."""

    type: ClassVar[str] = "cpc.partner.AgencyInvitationWithdrawn.v1"
    summary: ClassVar[str] = "The agency's invitation is withdrawn"

    reason: Literal["conference_cancelled", "no_longer_invited"]


class AgencyReportRequested(_AgencyEvent):
    """The agency is asked for its report for the conference, by `due_at` (upload over HTTP to the reports API)."""

    type: ClassVar[str] = "cpc.partner.AgencyReportRequested.v1"
    summary: ClassVar[str] = "The agency is asked for a report"

    report_id: str
    due_at: datetime
    conference_starts_at: datetime | None = None
    short_notice: bool = Field(False, description="Less time than the council's usual, because the statutory "
                               "deadline put the conference this soon.")


class AgencyReportOverdue(_AgencyEvent):
    """The agency's report was not in by its due time."""

    type: ClassVar[str] = "cpc.partner.AgencyReportOverdue.v1"
    summary: ClassVar[str] = "The agency's report is overdue"

    report_id: str
    due_at: datetime


class AgencyReportWithdrawn(_AgencyEvent):
    """The report is no longer needed (the conference was cancelled, or the agency left the case)."""

    type: ClassVar[str] = "cpc.partner.AgencyReportWithdrawn.v1"
    summary: ClassVar[str] = "The agency's report is no longer needed"

    report_id: str


class ConferenceOutcome(_AgencyEvent):
    """The outcome of a conference the agency was invited to: the decision's code only."""

    type: ClassVar[str] = "cpc.partner.ConferenceOutcome.v1"
    summary: ClassVar[str] = "The outcome of a conference the agency was invited to"

    held_on: date
    outcome: Outcome


CPIS_EVENTS: list[type[PartnerEvent]] = [ChildProtectionPlanStarted, ChildProtectionPlanEnded]
AGENCY_EVENTS: list[type[PartnerEvent]] = [AgencyInvited, AgencyInvitationWithdrawn, AgencyReportRequested,
                                           AgencyReportOverdue, AgencyReportWithdrawn, ConferenceOutcome]
PARTNER_EVENTS: dict[str, type[PartnerEvent]] = {model.type: model for model in CPIS_EVENTS + AGENCY_EVENTS}

EXAMPLES: dict[str, dict[str, Any]] = {
    ChildProtectionPlanStarted.type: {
        "subject_id": "CH-00042", "child_id": "CH-00042", "unborn": False, "expected_birth_month": None,
        "case_id": "CASE-00042", "council_id": "E10000013", "council_name": "Gloucestershire County Council",
        "conference_id": "CPC-7F3A2B19C0", "plan_start_date": "2026-11-10"},
    ChildProtectionPlanEnded.type: {
        "subject_id": "CASE-00077", "child_id": None, "unborn": True, "expected_birth_month": "2027-02",
        "case_id": "CASE-00077", "council_id": "E10000013", "council_name": "Gloucestershire County Council",
        "conference_id": "CPC-91B0C3D4E5", "plan_start_date": "2026-11-10", "plan_end_date": "2027-05-12"},
    AgencyInvited.type: {
        "agency": "police", "conference_id": "CPC-7F3A2B19C0", "case_id": "CASE-00042", "conference_type": "initial",
        "version": 1, "starts_at": "2026-11-10T09:30:00Z", "ends_at": "2026-11-10T11:30:00Z",
        "attendance_mode": "hybrid", "office_id": "GL-GLOUCESTER", "participant_ids": ["CASE-00042-POL"]},
    AgencyInvitationWithdrawn.type: {
        "agency": "police", "conference_id": "CPC-7F3A2B19C0", "reason": "conference_cancelled"},
    AgencyReportRequested.type: {
        "agency": "health", "conference_id": "CPC-7F3A2B19C0", "report_id": "RPT-5D2C1B0A", "due_at":
        "2026-11-05T09:30:00Z", "conference_starts_at": "2026-11-10T09:30:00Z", "short_notice": False},
    AgencyReportOverdue.type: {
        "agency": "health", "conference_id": "CPC-7F3A2B19C0", "report_id": "RPT-5D2C1B0A",
        "due_at": "2026-11-05T09:30:00Z"},
    AgencyReportWithdrawn.type: {
        "agency": "health", "conference_id": "CPC-7F3A2B19C0", "report_id": "RPT-5D2C1B0A"},
    ConferenceOutcome.type: {
        "agency": "education", "conference_id": "CPC-7F3A2B19C0", "held_on": "2026-11-10", "outcome": "plan_started"},
}
