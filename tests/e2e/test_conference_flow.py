"""An initial conference request, through the four running service processes, on the real stack."""

from __future__ import annotations

from datetime import datetime

import pytest
from cpc_stack import casemgmt

from tests.conftest import mails_for, new_request

pytestmark = pytest.mark.e2e

CE_HEADERS = {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"}
SCHEDULED_FIELDS = {"conference_id", "case_id", "request_id", "conference_type", "starts_at", "ends_at",
                    "statutory_deadline", "within_timescale", "attendance_mode", "office_id", "room_id", "chair_id"}


async def test_an_initial_request_is_scheduled_booked_reported_and_every_participant_invited(running_services, watcher):
    request = new_request()
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", request)])

    def scheduled():
        return watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])

    assert await watcher.until(lambda: bool(scheduled()), timeout=60), "no ConferenceScheduled"
    conference = scheduled()[0]
    conference_id = conference.data["conference_id"]
    invited = {p["participant_id"] for p in request["participants"]}
    assert await watcher.until(
        lambda: {s.data["recipient_id"] for s in watcher.of_type("cpc.NotificationSent.v1", conference_id=conference_id, purpose="invitation")}
        == invited, timeout=60), "not every participant was invited"

    assert CE_HEADERS <= set(conference.headers)
    assert conference.headers["ce_specversion"] == "1.0"
    assert conference.headers["content-type"] == "application/json"
    assert conference.key == conference_id
    assert SCHEDULED_FIELDS <= set(conference.data)
    assert conference.data["conference_type"] == "initial"
    assert conference.data["within_timescale"] is True
    assert conference.data["starts_at"][:10] <= conference.data["statutory_deadline"]

    booked = watcher.of_type("cpc.RoomBooked.v1", conference_id=conference_id)
    assert len(booked) == 1
    assert booked[0].data["room_id"] == conference.data["room_id"]
    assert {"booking_id", "office_id", "room_id", "starts_at", "ends_at", "hybrid"} <= set(booked[0].data)

    assert await watcher.until(lambda: len(watcher.of_type("cpc.ReportRequested.v1", conference_id=conference_id)) == 4,
                               timeout=30)
    reports = watcher.of_type("cpc.ReportRequested.v1", conference_id=conference_id)
    professional_agencies = {p["agency"] for p in request["participants"] if p["role"] == "professional"}
    assert {r.data["agency"] for r in reports} == professional_agencies | {"childrens_social_care"}
    starts_at = datetime.fromisoformat(conference.data["starts_at"])
    assert all(datetime.fromisoformat(r.data["due_at"]) < starts_at for r in reports)

    mails = mails_for(running_services, conference_id)
    assert sorted(m["To"] for m in mails) == sorted(p["email"] for p in request["participants"])
    family_mail = next(m for m in mails if m["To"] == request["participants"][0]["email"])
    text = next(part for part in family_mail.walk() if part.get_content_type() == "text/plain")
    assert "child protection conference" in text.get_payload(decode=True).decode()


async def test_the_office_nearest_the_family_is_booked(running_services, watcher):
    # A family in Coleford (Forest of Dean), far from Gloucester.
    request = new_request(family={"postcode": "GL16 8RH", "location": {"lat": 51.7950, "lon": -2.6100},
                                  "language": "en", "interpreter_needed": False, "accessibility_needs": []})
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", request)])
    assert await watcher.until(lambda: bool(watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])), 60)
    assert watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])[0].data["office_id"] == "GL-COLEFORD"


async def test_the_same_request_three_times_makes_one_conference_one_booking_one_invitation_each(running_services, watcher):
    request = new_request()
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", request)] * 3)

    def scheduled():
        return watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])

    assert await watcher.until(lambda: bool(scheduled()), timeout=60)
    conference_id = scheduled()[0].data["conference_id"]
    participants = len(request["participants"])
    assert await watcher.until(
        lambda: len(watcher.of_type("cpc.NotificationSent.v1", conference_id=conference_id, purpose="invitation")) >= participants, 60)
    await watcher.until(lambda: False, timeout=5)  # time for any duplicate to show itself

    assert {s.headers["ce_id"] for s in scheduled()} == {scheduled()[0].headers["ce_id"]}
    assert len({s.data["booking_id"] for s in watcher.of_type("cpc.RoomBooked.v1", conference_id=conference_id)}) == 1
    sent = watcher.of_type("cpc.NotificationSent.v1", conference_id=conference_id, purpose="invitation")
    assert len({s.data["notification_id"] for s in sent}) == participants
    assert len(mails_for(running_services, conference_id)) == participants


async def test_no_family_name_email_or_phone_reaches_a_cpc_topic(running_services, watcher):
    request = new_request()
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", request)])
    assert await watcher.until(lambda: bool(watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])), 60)
    conference_id = watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])[0].data["conference_id"]
    invited = len(request["participants"])
    assert await watcher.until(
        lambda: len(watcher.of_type("cpc.NotificationSent.v1", conference_id=conference_id, purpose="invitation")) == invited, 60)

    secrets = [value for p in request["participants"] for value in (p.get("name"), p.get("email"), p.get("phone")) if value]
    secrets += [request["family"]["postcode"]]
    published = [s for s in watcher.seen if s.topic.startswith("cpc.")]
    assert published
    for seen in published:
        text = repr(seen.data) + repr(seen.headers)
        leaked = [secret for secret in secrets if secret in text]
        assert not leaked, f"{seen.type} carries personal data"
