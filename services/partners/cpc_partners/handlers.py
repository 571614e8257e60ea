"""The partners service layer: one handler per internal event it translates, each loading its aggregate,
applying the change and saving it through the repository (which publishes the partner events it records).

    casemgmt.ConferenceRequested          -> requested          (the case's children; nothing published)
    casemgmt.ConferenceOutcomeRecorded    -> outcome_recorded   (ChildProtectionPlanStarted / Ended on partner.cpis.plans;
                                                                 ConferenceOutcome to each agency invited)
    cpc.ConferenceScheduled / Rescheduled -> arranged           (AgencyInvited, AgencyInvitationWithdrawn)
    cpc.ConferenceCancelled               -> cancelled          (AgencyInvitationWithdrawn)
    cpc.ReportRequested / Overdue / Withdrawn -> report_*       (AgencyReportRequested / Overdue / Withdrawn)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cpc_shared.clock import Clock
from cpc_shared.consumer import NotYet
from cpc_shared.contracts.inbound import ConferenceOutcomeRecorded, ConferenceRequested
from cpc_shared.contracts.outbound import (
    ConferenceArrangements,
    ConferenceCancelled,
    ReportOverdue,
    ReportRequested,
    ReportWithdrawn,
)
from cpc_shared.logging import get_logger
from cpc_shared.repository import Repository

from cpc_partners.domain.projection import Case, Conference, Council, Report

log = get_logger(__name__)


class ConferencesRead(Protocol):
    async def read_past(self, waiter: str) -> bool: ...


@dataclass(frozen=True)
class Partners:
    """What the handlers work with (wired by bootstrap.py; fakes in the service-layer tests)."""

    cases: Repository[Case]
    conferences: Repository[Conference]
    reports: Repository[Report]
    council: Council
    clock: Clock
    # Whether this service has read every conference scheduled before an outcome came (None: wait until the
    # consumer's own limit, as for any event that waits for another).
    conferences_read: ConferencesRead | None = None


async def requested(request: ConferenceRequested, partners: Partners) -> None:
    case = await partners.cases.get(request.case_id)
    if case is None:
        case = Case(id=request.case_id)
        case.requested(request)
        if not await partners.cases.add(case):
            raise NotYet(f"case {request.case_id} was added meanwhile")  # try again on what is stored now
        return
    if case.requested(request):
        await partners.cases.save(case)


async def outcome_recorded(outcome: ConferenceOutcomeRecorded, partners: Partners) -> None:
    if await partners.cases.get(outcome.case_id) is None:
        # Its request came before it on this topic (same key) and was never seen: no conference of this case can
        # ever be known here. Scheduling dead-letters it with the reason; waiting would hold the partition.
        log.warning("outcome_for_unknown_case", conference_id=outcome.conference_id)
        return
    conference = await partners.conferences.get(outcome.conference_id)
    if conference is None:
        if partners.conferences_read is not None and \
                await partners.conferences_read.read_past(f"{outcome.case_id}|{outcome.conference_id}"):
            # Every conference scheduled before this outcome came has been read here, and it was not among them:
            # a conference unknown for good. Scheduling dead-letters the outcome with the reason.
            log.warning("outcome_for_unknown_conference", conference_id=outcome.conference_id)
            return
        raise NotYet(f"conference {outcome.conference_id} not yet scheduled here")
    now = partners.clock.now()
    if conference.decided(outcome, now):
        await partners.conferences.save(conference)
    case = await partners.cases.get(conference.case_id)
    if case is None:
        raise NotYet(f"case {conference.case_id} not yet requested here")
    if case.decide(outcome, conference, partners.council, now):
        await partners.cases.save(case)
        log.info("outcome_translated", conference_id=outcome.conference_id, outcome=outcome.outcome)


async def arranged(arrangements: ConferenceArrangements, partners: Partners) -> None:
    conference = await partners.conferences.get(arrangements.conference_id)
    now = partners.clock.now()
    if conference is None:
        conference = Conference.new(arrangements)
        conference.arranged(arrangements, now)
        if not await partners.conferences.add(conference):
            raise NotYet(f"conference {arrangements.conference_id} was added meanwhile")
        return
    if conference.arranged(arrangements, now):
        await partners.conferences.save(conference)


async def cancelled(event: ConferenceCancelled, partners: Partners) -> None:
    conference = await partners.conferences.get(event.conference_id)
    if conference is not None and conference.cancel(partners.clock.now()):
        await partners.conferences.save(conference)


async def report_requested(event: ReportRequested, partners: Partners) -> None:
    await _report(event, partners, lambda report: report.requested(event, partners.clock.now()))


async def report_overdue(event: ReportOverdue, partners: Partners) -> None:
    await _report(event, partners, lambda report: report.overdue(event, partners.clock.now()))


async def report_withdrawn(event: ReportWithdrawn, partners: Partners) -> None:
    await _report(event, partners, lambda report: report.withdraw(event, partners.clock.now()))


async def _report(event: ReportRequested | ReportOverdue | ReportWithdrawn, partners: Partners,
                  change: Callable[[Report], bool]) -> None:
    report = await partners.reports.get(event.report_id)
    if report is None:
        report = Report.new(event)
        change(report)
        if not await partners.reports.add(report):
            raise NotYet(f"report {event.report_id} was added meanwhile")
        return
    if change(report):
        await partners.reports.save(report)
