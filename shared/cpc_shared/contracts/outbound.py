"""Our own events on the `cpc.*` topics. Identifiers, dates and statuses only: never a name,
address, e-mail, phone number or free text about a family. The key is always `conference_id`."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict

from cpc_shared.contracts.inbound import Agency, ConferenceType, Role

AttendanceMode = Literal["in_person", "hybrid", "virtual"]


class OutboundEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    type: ClassVar[str]
    topic: ClassVar[str]

    conference_id: str

    @property
    def key(self) -> str:
        return self.conference_id


class Invitee(BaseModel):
    """Who is invited, by id and role only; contact details stay with notifications."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    participant_id: str
    role: Role
    agency: Agency | None = None


class Slot(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    starts_at: datetime
    ends_at: datetime


class FamilyArea(BaseModel):
    """Where the family lives, coarsened: postcode district and a location rounded to about a kilometre."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    postcode_district: str | None = None
    lat: float | None = None
    lon: float | None = None


# cpc.conferences -----------------------------------------------------------------------------


class ConferenceArrangements(OutboundEvent):
    """When, where, with whom: what ConferenceScheduled and ConferenceRescheduled both carry (no event type)."""

    topic: ClassVar[str] = "cpc.conferences"

    case_id: str
    request_id: str
    conference_type: ConferenceType
    starts_at: datetime
    ends_at: datetime
    statutory_deadline: date
    within_timescale: bool
    attendance_mode: AttendanceMode
    office_id: str | None
    room_id: str | None
    chair_id: str
    booking_id: str | None = None
    meeting_link: str | None = None
    version: int = 1
    invitees: list[Invitee] = []
    previous_conference_id: str | None = None
    reconvened_from: str | None = None  # set when this is a new date after an inquorate conference


class ConferenceScheduled(ConferenceArrangements):
    type: ClassVar[str] = "cpc.ConferenceScheduled.v1"


class ConferenceRescheduled(ConferenceArrangements):
    """A new version of the arrangements: another time, place, chair or set of invitees."""

    type: ClassVar[str] = "cpc.ConferenceRescheduled.v1"


class ConferenceCancelled(OutboundEvent):
    type: ClassVar[str] = "cpc.ConferenceCancelled.v1"
    topic: ClassVar[str] = "cpc.conferences"

    case_id: str
    reason: str  # a reason code, never the free text the council typed


LateReason = Literal[
    "request_after_deadline",  # the deadline had passed when the conference was requested
    "too_little_notice",  # requested too close to its deadline to invite anyone (the policy's minimum notice)
    "closure_days_before_deadline",  # the council's closure days took the sessions that chairs had free
    "no_chair_before_deadline",
    "no_room_before_deadline",  # chairs were free in time, rooms in the family's area were not
    "rescheduled_by_chair",  # a chair moved it past the deadline, with a recorded reason
]


class ConferenceDeadlineAtRisk(OutboundEvent):
    """The conference will not be held by its statutory deadline (or has no date at all yet)."""

    type: ClassVar[str] = "cpc.ConferenceDeadlineAtRisk.v1"
    topic: ClassVar[str] = "cpc.conferences"

    case_id: str
    statutory_deadline: date
    reason: str  # a LateReason
    conference_type: ConferenceType | None = None
    reconvened_from: str | None = None  # a new date after an inquorate conference: its own, shorter timescale


ConferenceTask = Literal["decision_letter", "conference_record", "first_core_group", "pre_conference_discussion",
                         "post_conference_discussion"]


class _ConferenceTaskEvent(OutboundEvent):
    topic: ClassVar[str] = "cpc.conferences"

    case_id: str
    task: ConferenceTask
    due_on: date


class ConferenceTaskDue(_ConferenceTaskEvent):
    """Something the conference team must do is due today (a decision letter, the record, the first core
    group meeting, a discussion with a family who could not join) and is not done yet."""

    type: ClassVar[str] = "cpc.ConferenceTaskDue.v1"


class ConferenceTaskOverdue(_ConferenceTaskEvent):
    """It was not done by the day it was due."""

    type: ClassVar[str] = "cpc.ConferenceTaskOverdue.v1"


class QuorumAtRisk(OutboundEvent):
    """Fewer agencies are invited than a quorate conference needs (children's social care and two others)."""

    type: ClassVar[str] = "cpc.QuorumAtRisk.v1"
    topic: ClassVar[str] = "cpc.conferences"

    case_id: str
    starts_at: datetime
    reason: str


class InterpreterRequested(OutboundEvent):
    """The family needs an interpreter at the conference: for a booking system to book one in this language
    (an ISO 639-1 code) for this time and place. Sent again, with the conference's new version, whenever it is
    scheduled anew (another time or place); a ConferenceCancelled for the conference cancels it."""

    type: ClassVar[str] = "cpc.InterpreterRequested.v1"
    topic: ClassVar[str] = "cpc.conferences"

    case_id: str
    language: str
    starts_at: datetime
    ends_at: datetime
    attendance_mode: AttendanceMode
    office_id: str | None
    room_id: str | None
    version: int


class RoomRequested(OutboundEvent):
    """Scheduling asks rooms for a room for one of the candidate slots, best first (internal)."""

    type: ClassVar[str] = "cpc.RoomRequested.v1"
    topic: ClassVar[str] = "cpc.conferences"

    case_id: str
    room_request_id: str
    attendance_mode: AttendanceMode
    in_person_attendees: int
    family_area: FamilyArea
    step_free_access: bool = False
    hearing_loop: bool = False
    candidates: list[Slot]
    statutory_deadline: date | None = None  # candidates on or before it come first, whatever the office
    # A move: the conference is in this office already, so only offices nearer the family are worth a change.
    nearer_than_office_id: str | None = None


# cpc.rooms -----------------------------------------------------------------------------------


class RoomBooked(OutboundEvent):
    type: ClassVar[str] = "cpc.RoomBooked.v1"
    topic: ClassVar[str] = "cpc.rooms"

    booking_id: str
    room_request_id: str
    office_id: str
    room_id: str
    starts_at: datetime
    ends_at: datetime
    hybrid: bool


class RoomUnavailable(OutboundEvent):
    type: ClassVar[str] = "cpc.RoomUnavailable.v1"
    topic: ClassVar[str] = "cpc.rooms"

    room_request_id: str
    reason: str


class RoomReleased(OutboundEvent):
    type: ClassVar[str] = "cpc.RoomReleased.v1"
    topic: ClassVar[str] = "cpc.rooms"

    booking_id: str
    office_id: str
    room_id: str
    reason: Literal["conference_cancelled", "conference_moved", "hold_expired"] = "conference_cancelled"


# cpc.reports ---------------------------------------------------------------------------------


class ReportRequested(OutboundEvent):
    type: ClassVar[str] = "cpc.ReportRequested.v1"
    topic: ClassVar[str] = "cpc.reports"

    report_id: str
    agency: Agency
    author_role: Role
    due_at: datetime
    share_with_family_by: datetime | None = None  # the social worker's report reaches the parents by then
    conference_starts_at: datetime | None = None
    # Less time than the council's usual to write it: the statutory deadline put the conference this soon.
    short_notice: bool = False


class ReportSubmitted(OutboundEvent):
    type: ClassVar[str] = "cpc.ReportSubmitted.v1"
    topic: ClassVar[str] = "cpc.reports"

    report_id: str
    agency: Agency
    due_at: datetime
    submitted_at: datetime
    late: bool
    version: int


class _ReportStanding(OutboundEvent):
    """The fields every event about one requested report carries; no event type of its own."""

    topic: ClassVar[str] = "cpc.reports"

    report_id: str
    agency: Agency
    due_at: datetime


class ReportOverdue(_ReportStanding):
    """Not in by its due time: the agency is chased."""

    type: ClassVar[str] = "cpc.ReportOverdue.v1"


class ReportEscalated(_ReportStanding):
    """Still missing a while after it was due: the chair is told."""

    type: ClassVar[str] = "cpc.ReportEscalated.v1"

    chair_id: str | None = None


class ReportWithdrawn(_ReportStanding):
    """The conference was cancelled, or the agency left the case: the report is no longer needed."""

    type: ClassVar[str] = "cpc.ReportWithdrawn.v1"


class ReportsComplete(OutboundEvent):
    type: ClassVar[str] = "cpc.ReportsComplete.v1"
    topic: ClassVar[str] = "cpc.reports"

    report_ids: list[str]


FamilyRole = Literal["parent", "carer", "child"]  # who is asked for their views before the conference
FAMILY_WRITERS: frozenset[str] = frozenset(get_args(FamilyRole))


class FamilyViewsReceived(OutboundEvent):
    """A parent, carer or child saved their views for the conference on their form (again: a higher `version`);
    the form closes at the end of the day before the conference. Only that they did: never a word of what they
    wrote, nor a name."""

    type: ClassVar[str] = "cpc.FamilyViewsReceived.v1"
    topic: ClassVar[str] = "cpc.reports"

    contribution_id: str
    participant_id: str
    role: FamilyRole
    received_at: datetime
    version: int


# cpc.notifications ---------------------------------------------------------------------------

Purpose = Literal["invitation", "update", "cancellation", "reminder", "report_request", "report_chaser", "alert"]


Channel = Literal["email", "sms", "letter"]


class _NotificationOutcome(OutboundEvent):
    """The fields of what became of one message; no event type of its own."""

    topic: ClassVar[str] = "cpc.notifications"

    notification_id: str
    recipient_id: str
    purpose: Purpose
    channel: Channel


class NotificationSent(_NotificationOutcome):
    type: ClassVar[str] = "cpc.NotificationSent.v1"


class NotificationFailed(_NotificationOutcome):
    """Could not be sent for good, on the channel it was meant for (the team is asked to reach the person)."""

    type: ClassVar[str] = "cpc.NotificationFailed.v1"
