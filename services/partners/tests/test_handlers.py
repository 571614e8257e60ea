"""The partners service layer on in-memory fakes: what each internal event publishes to partners, once."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from cpc_partners import handlers
from cpc_partners.domain.projection import Case, Conference, Council, Report
from cpc_partners.handlers import Partners
from cpc_shared.clock import FixedClock
from cpc_shared.consumer import NotYet
from cpc_shared.contracts.inbound import ConferenceOutcomeRecorded, ConferenceRequested
from cpc_shared.contracts.outbound import (
    ConferenceCancelled,
    ConferenceRescheduled,
    ConferenceScheduled,
    Invitee,
    ReportOverdue,
    ReportRequested,
    ReportWithdrawn,
)
from cpc_shared.contracts.partner import PARTNER_EVENTS
from cpc_shared.fakes import InMemoryStore, RecordingRelay
from cpc_shared.repository import Repository

T0 = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def partners() -> Partners:
    store, relay = InMemoryStore(), RecordingRelay()
    return Partners(cases=Repository(store, Case, relay), conferences=Repository(store, Conference, relay),
                    reports=Repository(store, Report, relay), council=Council(id="E10000013", name="A Council"),
                    clock=FixedClock(T0))


def published(partners: Partners) -> list[dict]:
    store = partners.cases.store
    assert isinstance(store, InMemoryStore)
    return [entry for name in ("cases", "conferences", "reports") for entry in store.outbox(name)]


def request(case_id: str = "CASE-1", children: tuple[str, ...] = ("CH-1", "CH-2"), **fields) -> ConferenceRequested:
    return ConferenceRequested.model_validate({
        "request_id": fields.pop("request_id", f"REQ-{case_id}"), "case_id": case_id, "conference_type": "initial",
        "basis_date": "2027-02-20", "children": [{"child_id": c} for c in children],
        "family": {"postcode": "GL1 2TP"}, "requested_at": T0.isoformat(),
        "participants": [
            {"participant_id": "P1", "role": "parent", "name": "Sam Parent", "email": "sam@family.example"},
            {"participant_id": "SW", "role": "social_worker", "agency": "childrens_social_care"},
            {"participant_id": "POL", "role": "professional", "agency": "police"},
        ], **fields})


def scheduled(conference_id: str = "CPC-1", case_id: str = "CASE-1", version: int = 1, agencies=("police", "health"),
              starts_at: datetime = T0 + timedelta(days=7), cls=ConferenceScheduled, **fields):
    invitees = [Invitee(participant_id="P1", role="parent"),
                Invitee(participant_id="SW", role="social_worker", agency="childrens_social_care")]
    invitees += [Invitee(participant_id=f"{a[:3].upper()}", role="professional", agency=a) for a in agencies]
    return cls(conference_id=conference_id, case_id=case_id, request_id=fields.pop("request_id", f"REQ-{case_id}"),
               conference_type=fields.pop("conference_type", "initial"), starts_at=starts_at,
               ends_at=starts_at + timedelta(hours=2), statutory_deadline=date(2027, 3, 20), within_timescale=True,
               attendance_mode="hybrid", office_id="GL-GLOUCESTER", room_id="R1", chair_id=fields.pop("chair_id", "CHAIR-1"), version=version,
               invitees=invitees, **fields)


def outcome(code: str, conference_id: str = "CPC-1", case_id: str = "CASE-1", held_on: date = date(2027, 3, 8)):
    return ConferenceOutcomeRecorded(conference_id=conference_id, case_id=case_id, held_on=held_on, outcome=code,
                                     quorate=True)


async def test_an_invitation_per_agency_invited_with_its_own_participants_only(partners: Partners) -> None:
    await handlers.arranged(scheduled(), partners)
    events = published(partners)
    assert sorted(e["topic"] for e in events) == ["partner.agency.childrens_social_care", "partner.agency.health",
                                                   "partner.agency.police"]
    police = next(e for e in events if e["topic"] == "partner.agency.police")
    assert police["type"] == "cpc.partner.AgencyInvited.v1" and police["key"] == "CPC-1"
    assert police["data"]["participant_ids"] == ["POL"] and police["data"]["office_id"] == "GL-GLOUCESTER"
    await handlers.arranged(scheduled(), partners)  # redelivered
    assert len(published(partners)) == 3


async def test_a_new_version_tells_only_the_agencies_whose_invitation_changed(partners: Partners) -> None:
    await handlers.arranged(scheduled(), partners)
    # version 2: the chair changed only (nothing an agency sees), and health left the case
    await handlers.arranged(scheduled(version=2, agencies=("police",), cls=ConferenceRescheduled, chair_id="X"), partners)
    later = published(partners)[3:]
    assert [(e["type"], e["topic"]) for e in later] == [("cpc.partner.AgencyInvitationWithdrawn.v1", "partner.agency.health")]
    assert later[0]["data"]["reason"] == "no_longer_invited"
    # version 3: another day: everyone still invited hears the new time
    await handlers.arranged(scheduled(version=3, agencies=("police",), starts_at=T0 + timedelta(days=9),
                                      cls=ConferenceRescheduled), partners)
    latest = published(partners)[4:]
    assert sorted(e["topic"] for e in latest) == ["partner.agency.childrens_social_care", "partner.agency.police"]
    assert all(e["data"]["version"] == 3 for e in latest)
    await handlers.arranged(scheduled(version=2, cls=ConferenceRescheduled), partners)  # an old version, late
    assert len(published(partners)) == 6


async def test_a_cancelled_conference_withdraws_every_invitation(partners: Partners) -> None:
    await handlers.arranged(scheduled(), partners)
    for _ in range(2):
        await handlers.cancelled(ConferenceCancelled(conference_id="CPC-1", case_id="CASE-1", reason="requested"), partners)
    withdrawn = [e for e in published(partners) if e["type"] == "cpc.partner.AgencyInvitationWithdrawn.v1"]
    assert len(withdrawn) == 3 and {e["data"]["reason"] for e in withdrawn} == {"conference_cancelled"}


async def test_plan_started_then_continued_then_ended_for_each_child(partners: Partners) -> None:
    await handlers.requested(request(), partners)
    await handlers.arranged(scheduled(), partners)
    await handlers.outcome_recorded(outcome("plan_started"), partners)
    await handlers.outcome_recorded(outcome("plan_started"), partners)  # redelivered
    plans = [e for e in published(partners) if e["topic"] == "partner.cpis.plans"]
    assert [(e["type"], e["key"]) for e in plans] == [("cpc.partner.ChildProtectionPlanStarted.v1", "CH-1"),
                                                      ("cpc.partner.ChildProtectionPlanStarted.v1", "CH-2")]
    assert plans[0]["data"] | {} == {
        "subject_id": "CH-1", "child_id": "CH-1", "unborn": False, "expected_birth_month": None, "case_id": "CASE-1",
        "council_id": "E10000013", "council_name": "A Council", "conference_id": "CPC-1", "plan_start_date": "2027-03-08"}
    outcomes = [e for e in published(partners) if e["type"] == "cpc.partner.ConferenceOutcome.v1"]
    assert sorted(e["topic"].rsplit(".", 1)[1] for e in outcomes) == ["childrens_social_care", "health", "police"]
    assert {e["data"]["outcome"] for e in outcomes} == {"plan_started"}

    # a review planned by scheduling (no request of its own): the plan continues, then ends
    await handlers.arranged(scheduled("CPC-2", request_id="CPC-1/next-review", conference_type="review"), partners)
    before = len(published(partners))
    await handlers.outcome_recorded(outcome("plan_continued", "CPC-2", held_on=date(2027, 6, 8)), partners)
    assert [e["type"] for e in published(partners)[before:]] == ["cpc.partner.ConferenceOutcome.v1"] * 3
    await handlers.arranged(scheduled("CPC-3", request_id="CPC-2/next-review", conference_type="review"), partners)
    await handlers.outcome_recorded(outcome("plan_ended", "CPC-3", held_on=date(2027, 12, 8)), partners)
    ended = [e for e in published(partners) if e["type"] == "cpc.partner.ChildProtectionPlanEnded.v1"]
    assert [(e["key"], e["data"]["plan_start_date"], e["data"]["plan_end_date"], e["data"]["conference_id"])
            for e in ended] == [("CH-1", "2027-03-08", "2027-12-08", "CPC-3"), ("CH-2", "2027-03-08", "2027-12-08", "CPC-3")]
    ids = [e["id"] for e in published(partners)]
    assert len(ids) == len(set(ids))


async def test_an_unborn_childs_plan_is_flagged_with_the_month_of_the_birth_only(partners: Partners) -> None:
    await handlers.requested(request("CASE-9", children=(), conference_type="pre_birth",
                                     expected_birth_date="2027-06-14"), partners)
    await handlers.arranged(scheduled("CPC-9", "CASE-9", conference_type="pre_birth"), partners)
    await handlers.outcome_recorded(outcome("plan_started", "CPC-9", "CASE-9"), partners)
    [started] = [e for e in published(partners) if e["topic"] == "partner.cpis.plans"]
    assert started["key"] == "CASE-9"
    assert started["data"]["unborn"] is True and started["data"]["child_id"] is None
    assert started["data"]["expected_birth_month"] == "2027-06"
    assert "2027-06-14" not in str(started["data"])


async def test_no_plan_and_an_ended_plan_never_seen_starting(partners: Partners) -> None:
    await handlers.requested(request(), partners)
    await handlers.arranged(scheduled(), partners)
    await handlers.outcome_recorded(outcome("plan_ended"), partners)
    ended = [e for e in published(partners) if e["topic"] == "partner.cpis.plans"]
    assert [(e["key"], e["data"]["plan_start_date"]) for e in ended] == [("CH-1", None), ("CH-2", None)]
    await handlers.requested(request("CASE-2", request_id="REQ-X"), partners)
    await handlers.arranged(scheduled("CPC-X", "CASE-2", request_id="REQ-X"), partners)
    before = len([e for e in published(partners) if e["topic"] == "partner.cpis.plans"])
    await handlers.outcome_recorded(outcome("no_plan", "CPC-X", "CASE-2"), partners)
    assert len([e for e in published(partners) if e["topic"] == "partner.cpis.plans"]) == before


async def test_an_outcome_waits_for_its_conference(partners: Partners) -> None:
    await handlers.requested(request(), partners)
    with pytest.raises(NotYet):
        await handlers.outcome_recorded(outcome("plan_started"), partners)


class ConferencesRead:
    """Whether every conference scheduled before the outcome came has been read here (the group's offsets)."""

    def __init__(self, read_past: bool) -> None:
        self.past, self.asked = read_past, []

    async def read_past(self, waiter: str) -> bool:
        self.asked.append(waiter)
        return self.past


async def test_an_outcome_for_a_conference_of_a_known_case_waits_only_while_conferences_are_still_to_read(
        partners: Partners) -> None:
    await handlers.requested(request(), partners)
    behind = dataclasses.replace(partners, conferences_read=ConferencesRead(False))
    with pytest.raises(NotYet):
        await handlers.outcome_recorded(outcome("plan_started", "CPC-TYPO"), behind)
    caught_up = dataclasses.replace(partners, conferences_read=ConferencesRead(True))
    before = len(published(partners))
    await handlers.outcome_recorded(outcome("plan_started", "CPC-TYPO"), caught_up)  # unknown for good: passed over
    assert len(published(partners)) == before
    assert caught_up.conferences_read.asked == ["CASE-1|CPC-TYPO"]  # type: ignore[union-attr]


async def test_an_outcome_for_a_case_never_requested_is_passed_over_without_waiting(partners: Partners) -> None:
    await handlers.outcome_recorded(outcome("plan_started", "CPC-NOBODY", "CASE-NOBODY"), partners)
    assert published(partners) == []


async def test_report_requests_reach_the_agency_once(partners: Partners) -> None:
    requested = ReportRequested(conference_id="CPC-1", report_id="R1", agency="health", author_role="professional",
                                due_at=T0 + timedelta(days=4), conference_starts_at=T0 + timedelta(days=7), short_notice=True)
    for _ in range(2):
        await handlers.report_requested(requested, partners)
        await handlers.report_overdue(ReportOverdue(conference_id="CPC-1", report_id="R1", agency="health",
                                                    due_at=requested.due_at), partners)
        await handlers.report_withdrawn(ReportWithdrawn(conference_id="CPC-1", report_id="R1", agency="health",
                                                        due_at=requested.due_at), partners)
    events = published(partners)
    assert [e["type"] for e in events] == ["cpc.partner.AgencyReportRequested.v1", "cpc.partner.AgencyReportOverdue.v1",
                                           "cpc.partner.AgencyReportWithdrawn.v1"]
    assert {e["topic"] for e in events} == {"partner.agency.health"}
    assert events[0]["data"]["short_notice"] is True
    # another agency's report for the same conference, due at the same time: events of their own, ids of their own
    await handlers.report_requested(requested.model_copy(update={"report_id": "R2", "agency": "police"}), partners)
    await handlers.report_withdrawn(ReportWithdrawn(conference_id="CPC-1", report_id="R2", agency="police",
                                                    due_at=requested.due_at), partners)
    ids = [e["id"] for e in published(partners)]
    assert len(ids) == 5 == len(set(ids))


async def test_every_event_published_is_valid_by_its_own_model(partners: Partners) -> None:
    await test_plan_started_then_continued_then_ended_for_each_child(partners)
    for entry in published(partners):
        PARTNER_EVENTS[entry["type"]].model_validate(entry["data"])
