"""The partners service's own view of cases, conferences and report requests, and the partner events each change
publishes (contracts/partner.py).

Each is an aggregate saved with the events it records (repository.py): the same inbound event handled twice
finds its effect stored and records nothing; an event's id comes from its cause, so a crash between saving and
publishing republishes the same ids. Dates are kept as ISO strings (the store has no date type).

    Case        ConferenceRequested (children, expected birth)   -> the children on a plan
                ConferenceOutcomeRecorded plan_started / ended     ChildProtectionPlanStarted / Ended
    Conference  ConferenceScheduled / Rescheduled / Cancelled     -> AgencyInvited, AgencyInvitationWithdrawn
                ConferenceOutcomeRecorded                           ConferenceOutcome to each agency invited
    Report      ReportRequested / Overdue / Withdrawn             -> AgencyReportRequested / Overdue / Withdrawn
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar, cast

from cpc_shared.contracts.inbound import FAMILY_ROLES, ConferenceOutcomeRecorded, ConferenceRequested
from cpc_shared.contracts.outbound import (
    ConferenceArrangements,
    OutboundEvent,
    ReportOverdue,
    ReportRequested,
    ReportWithdrawn,
)
from cpc_shared.contracts.partner import (
    AgencyInvitationWithdrawn,
    AgencyInvited,
    AgencyReportOverdue,
    AgencyReportRequested,
    AgencyReportWithdrawn,
    ChildProtectionPlanEnded,
    ChildProtectionPlanStarted,
    ConferenceOutcome,
    PartnerEvent,
)
from cpc_shared.outbox import outbox_entry
from cpc_shared.repository import Aggregate
from pydantic import BaseModel


class Council(BaseModel):
    """Who the partner events come from: the council's code and name, from its profile."""

    id: str | None
    name: str


class Translator(Aggregate):
    """An aggregate whose recorded events are partner events (on the partner topics, with their own keys). An event's
    id comes from its type, key and cause: the cause names whatever tells apart two events of one type with one key
    (the agency, the report), since consumers handle an id once."""

    collection: ClassVar[str]

    def publish(self, event: PartnerEvent, *, at: datetime, cause: str) -> None:
        # outbox_entry reads the event's type, key, topic and JSON body: a partner event has all four.
        self._recorded.append(outbox_entry(cast(OutboundEvent, event), at=at, cause=cause))


# Cases and plans (NHS CP-IS) -----------------------------------------------------------------


class RequestFacts(BaseModel):
    children: list[str] = []
    conference_type: str
    expected_birth_date: str | None = None


class Plan(BaseModel):
    child_id: str | None
    unborn: bool = False
    expected_birth_month: str | None = None
    started_on: str | None
    conference_id: str


class Case(Translator):
    collection: ClassVar[str] = "cases"

    requests: dict[str, RequestFacts] = {}
    latest_request: str | None = None
    plans: dict[str, Plan] = {}  # subject id (child id, or the case id for an unborn child) -> its open plan
    decided: list[str] = []  # conferences whose outcome this case has applied

    def requested(self, request: ConferenceRequested) -> bool:
        """Remember the request's children; False if it was known already (nothing changes)."""
        if request.request_id in self.requests:
            return False
        self.requests[request.request_id] = RequestFacts(
            children=[child.child_id for child in request.children], conference_type=request.conference_type,
            expected_birth_date=request.expected_birth_date.isoformat() if request.expected_birth_date else None)
        self.requests = dict(self.requests)  # assignment: validated and stored
        self.latest_request = request.request_id
        return True

    def facts_for(self, request_id: str) -> RequestFacts | None:
        """The request behind a conference; a review or reconvened conference scheduling planned itself has no
        request of its own, so the case's latest request says who the children are."""
        found = self.requests.get(request_id)
        if found is None and self.latest_request:
            found = self.requests[self.latest_request]
        return found

    def decide(self, outcome: ConferenceOutcomeRecorded, conference: Conference, council: Council, at: datetime) -> bool:
        """Apply a conference's outcome to the children's plans; False if it was applied already."""
        if outcome.conference_id in self.decided:
            return False
        facts = self.facts_for(conference.request_id)
        subjects = self._subjects(conference, facts, outcome.held_on.isoformat())
        plans = dict(self.plans)
        if outcome.outcome == "plan_started":
            for subject_id, plan in subjects.items():
                if subject_id in plans:
                    continue  # on a plan already: nothing new to say
                plans[subject_id] = plan
                self.publish(ChildProtectionPlanStarted(plan_start_date=outcome.held_on, **self._common(subject_id, plan, council)),
                             at=at, cause=f"{outcome.conference_id}|started")
        elif outcome.outcome == "plan_ended":
            # every open plan, and the children of this conference (a plan started before this service saw it)
            ending = {**{subject_id: plan.model_copy(update={"started_on": None}) for subject_id, plan in subjects.items()},
                      **plans}
            for subject_id, plan in ending.items():
                plans.pop(subject_id, None)
                started = date.fromisoformat(plan.started_on) if plan.started_on else None
                self.publish(ChildProtectionPlanEnded(plan_start_date=started, plan_end_date=outcome.held_on,
                                                      **self._common(subject_id, plan, council, outcome.conference_id)),
                             at=at, cause=f"{outcome.conference_id}|ended")
        # plan_continued: the plans go on, nothing new to publish; no_plan: nothing started
        self.plans = plans
        self.decided = [*self.decided, outcome.conference_id][-50:]
        return True

    def _subjects(self, conference: Conference, facts: RequestFacts | None, held_on: str) -> dict[str, Plan]:
        """Whom the conference decided about: each child of its request, and an unborn child at a pre-birth one."""
        subjects: dict[str, Plan] = {}
        for child_id in facts.children if facts else []:
            subjects[child_id] = Plan(child_id=child_id, started_on=held_on, conference_id=conference.id)
        if conference.conference_type == "pre_birth":
            expected = facts.expected_birth_date if facts else None
            subjects[self.id] = Plan(child_id=None, unborn=True, expected_birth_month=expected[:7] if expected else None,
                                     started_on=held_on, conference_id=conference.id)
        return subjects

    def _common(self, subject_id: str, plan: Plan, council: Council, conference_id: str | None = None) -> dict[str, Any]:
        return {"subject_id": subject_id, "child_id": plan.child_id, "unborn": plan.unborn,
                "expected_birth_month": plan.expected_birth_month, "case_id": self.id, "council_id": council.id,
                "council_name": council.name, "conference_id": conference_id or plan.conference_id}


# Conferences (the agencies) ------------------------------------------------------------------


def invited_agencies(arrangements: ConferenceArrangements) -> dict[str, list[str]]:
    """Each agency's professionals invited, by participant id (never the family, whatever agency field it has)."""
    invited: dict[str, list[str]] = {}
    for invitee in arrangements.invitees:
        if invitee.agency is not None and invitee.role not in FAMILY_ROLES:
            invited.setdefault(invitee.agency, []).append(invitee.participant_id)
    return {agency: sorted(ids) for agency, ids in sorted(invited.items())}


class Conference(Translator):
    collection: ClassVar[str] = "conferences"

    case_id: str
    request_id: str
    conference_type: str
    arrangements_version: int = 0  # the newest version of the arrangements seen (`version` is the stored one's)
    sent: dict[str, dict[str, Any]] = {}  # agency -> the invitation it last had (what it says, not its version)
    cancelled: bool = False
    outcome: str | None = None
    invited_when_decided: list[str] = []

    @classmethod
    def new(cls, arrangements: ConferenceArrangements) -> Conference:
        return cls(id=arrangements.conference_id, case_id=arrangements.case_id, request_id=arrangements.request_id,
                   conference_type=arrangements.conference_type)

    def arranged(self, arrangements: ConferenceArrangements, at: datetime) -> bool:
        """A (new) version of the arrangements: each agency whose invitation says something new is told, and one
        no longer invited is told so. False if nothing changed (an older or repeated version)."""
        if self.cancelled or arrangements.version <= self.arrangements_version:
            return False
        self.arrangements_version = arrangements.version
        self.conference_type = arrangements.conference_type
        sent = dict(self.sent)
        invited = invited_agencies(arrangements)
        for agency, participant_ids in invited.items():
            says = {"case_id": arrangements.case_id, "conference_type": arrangements.conference_type,
                    "starts_at": arrangements.starts_at.isoformat(), "ends_at": arrangements.ends_at.isoformat(),
                    "attendance_mode": arrangements.attendance_mode, "office_id": arrangements.office_id,
                    "participant_ids": participant_ids}
            if sent.get(agency) == says:
                continue
            sent[agency] = says
            self.publish(AgencyInvited.model_validate({**says, "agency": agency, "conference_id": self.id,
                                                       "version": arrangements.version}),
                         at=at, cause=f"invited|{arrangements.version}|{agency}")
        for agency in [agency for agency in sent if agency not in invited]:
            del sent[agency]
            self.publish(AgencyInvitationWithdrawn(agency=agency, conference_id=self.id, reason="no_longer_invited"),
                         at=at, cause=f"withdrawn|{arrangements.version}|{agency}")
        self.sent = sent
        return True

    def cancel(self, at: datetime) -> bool:
        if self.cancelled:
            return False
        self.cancelled = True
        for agency in self.sent:
            self.publish(AgencyInvitationWithdrawn(agency=agency, conference_id=self.id, reason="conference_cancelled"),
                         at=at, cause=f"cancelled|{agency}")
        self.sent = {}
        return True

    def decided(self, outcome: ConferenceOutcomeRecorded, at: datetime) -> bool:
        """Tell each agency invited the outcome (its code only); False if told already."""
        if self.outcome is not None:
            return False
        self.outcome = outcome.outcome
        self.invited_when_decided = sorted(self.sent)
        for agency in self.invited_when_decided:
            self.publish(ConferenceOutcome(agency=agency, conference_id=self.id, held_on=outcome.held_on,
                                           outcome=outcome.outcome), at=at, cause=f"outcome|{agency}")
        return True


# Report requests (the agencies) --------------------------------------------------------------


class Report(Translator):
    collection: ClassVar[str] = "reports"

    conference_id: str
    agency: str
    requested_due: str | None = None  # the due time the agency was last asked for
    overdue_for: str | None = None  # the due time it was last told it missed
    withdrawn: bool = False

    @classmethod
    def new(cls, event: ReportRequested | ReportOverdue | ReportWithdrawn) -> Report:
        return cls(id=event.report_id, conference_id=event.conference_id, agency=event.agency)

    def requested(self, event: ReportRequested, at: datetime) -> bool:
        due = event.due_at.isoformat()
        if self.withdrawn or self.requested_due == due:
            return False
        self.requested_due = due
        self.publish(AgencyReportRequested(agency=event.agency, conference_id=event.conference_id, report_id=event.report_id,
                                           due_at=event.due_at, conference_starts_at=event.conference_starts_at,
                                           short_notice=event.short_notice), at=at, cause=f"requested|{self.id}|{due}")
        return True

    def overdue(self, event: ReportOverdue, at: datetime) -> bool:
        due = event.due_at.isoformat()
        if self.withdrawn or self.overdue_for == due:
            return False
        self.overdue_for = due
        self.publish(AgencyReportOverdue(agency=event.agency, conference_id=event.conference_id, report_id=event.report_id,
                                         due_at=event.due_at), at=at, cause=f"overdue|{self.id}|{due}")
        return True

    def withdraw(self, event: ReportWithdrawn, at: datetime) -> bool:
        if self.withdrawn:
            return False
        self.withdrawn = True
        self.publish(AgencyReportWithdrawn(agency=event.agency, conference_id=event.conference_id, report_id=event.report_id),
                     at=at, cause=f"withdrawn|{self.id}")
        return True
