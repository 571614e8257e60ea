"""Notifications on the running stack: invitations with calendar files, updates with the same UID,
cancellations with no reminder after them, nothing sent twice, and no contact detail stored in clear."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.http import issue_token
from cpc_shared.profile import load_profile
from cpc_stack import casemgmt, infra, services
from cpc_stack.paths import REPO
from icalendar import Calendar
from pymongo import AsyncMongoClient

from tests.conftest import mails_for, new_request, schedule

pytestmark = pytest.mark.e2e
LONDON = ZoneInfo("Europe/London")


def body_of(mail) -> str:
    return next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()


def invite_of(mail) -> Calendar:
    parts = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, "one calendar invitation attached"
    return Calendar.from_ical(parts[0].get_payload(decode=True))


async def scheduled(watcher, endpoints):
    request, conference = await schedule(watcher, endpoints)
    cid = conference["conference_id"]
    assert await watcher.until(lambda: len(mails_for(endpoints, cid)) >= len(request["participants"]), 60)
    return request, conference


async def test_every_participant_gets_an_invitation_with_a_calendar_file(running_services, watcher):
    request, conference = await scheduled(watcher, running_services)
    mails = mails_for(running_services, conference["conference_id"])
    assert sorted(m["To"] for m in mails) == sorted(p["email"] for p in request["participants"])
    for mail in mails:
        invite = invite_of(mail)
        event = next(c for c in invite.walk() if c.name == "VEVENT")
        assert invite["METHOD"] == "REQUEST" and str(event["UID"]) == f"{conference['conference_id']}@cpc"
        assert int(event["SEQUENCE"]) == 1
        assert event.decoded("DTSTART") == datetime.fromisoformat(conference["starts_at"])
    # Each NotificationSent is recorded after its mail is handed over, so it follows the mail: wait for it.
    everyone = {p["participant_id"] for p in request["participants"]}

    def sent() -> list:
        return watcher.of_type("cpc.NotificationSent.v1", conference_id=conference["conference_id"], purpose="invitation")

    assert await watcher.until(lambda: {s.data["recipient_id"] for s in sent()} == everyone, 30), sent()
    invitations = sent()
    assert {s.data["channel"] for s in invitations} == {"email"}
    assert all(set(s.data) <= {"conference_id", "notification_id", "recipient_id", "purpose", "channel"}
               for s in invitations)


async def test_a_rescheduled_conference_sends_an_update_with_the_same_calendar_uid(running_services, watcher):
    request, conference = await scheduled(watcher, running_services)
    cid = conference["conference_id"]
    start = datetime.fromisoformat(conference["starts_at"]).astimezone(LONDON)
    profile_chair = conference["chair_id"]
    calendar = WorkingDayCalendar()
    chair = load_profile(REPO / "profiles/gloucestershire-2022.yaml").chair(profile_chair)
    token = issue_token(infra.staff_token_secret(), subject="chair", role="chair", chair_id=profile_chair)
    day = start.date()
    async with httpx.AsyncClient() as http:
        for _ in range(10):  # the chair's first free afternoon after the current date
            day = calendar.add_working_days(day, 1)
            if not chair.available_on(day):
                continue
            new_start = datetime(day.year, day.month, day.day, 13, 30, tzinfo=LONDON)
            moved = await http.post(f"{services.api('scheduling')}/conferences/{cid}/reschedule",
                                    # the reason counts only if the chair's free afternoon is past the deadline
                                    json={"starts_at": new_start.isoformat(), "reason": "the chair's diary"},
                                    headers={"Authorization": f"Bearer {token}"})
            if moved.status_code != 409:
                break
    assert moved.status_code == 202, moved.text
    participants = len(request["participants"])
    assert await watcher.until(lambda: len(mails_for(running_services, cid, "update")) == participants, 60)
    updates = mails_for(running_services, cid, "update")
    assert len(updates) == participants
    for mail in updates:
        event = next(c for c in invite_of(mail).walk() if c.name == "VEVENT")
        assert str(event["UID"]) == f"{cid}@cpc" and int(event["SEQUENCE"]) == 2
        assert event.decoded("DTSTART") == new_start


async def test_a_cancelled_conference_sends_a_cancellation_and_no_reminder_after_it(
        running_services, watcher, clock_offset_file):
    request, cancelled = await scheduled(watcher, running_services)
    _, kept = await scheduled(watcher, running_services)
    cid = cancelled["conference_id"]
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceCancellationRequested.v1", {
        "case_id": request["case_id"], "conference_id": cid, "reason": "no longer needed"})])
    participants = len(request["participants"])
    assert await watcher.until(lambda: len(mails_for(running_services, cid, "cancellation")) == participants, 60)
    for mail in mails_for(running_services, cid, "cancellation"):
        invite = invite_of(mail)
        assert invite["METHOD"] == "CANCEL"
        assert str(next(c for c in invite.walk() if c.name == "VEVENT")["UID"]) == f"{cid}@cpc"
    # Move every service's clock to the afternoon before the conferences: the day-before reminders are due.
    eve = datetime.fromisoformat(kept["starts_at"]) - timedelta(hours=20)
    try:
        clock_offset_file.write_text(str((eve - datetime.now(UTC)).total_seconds()))
        kept_id = kept["conference_id"]
        # Every conference the session scheduled by then is due its reminder too: hundreds of mails go first.
        assert await watcher.until(lambda: bool(mails_for(running_services, kept_id, "reminder")), 300)
        await watcher.until(lambda: False, timeout=3)
        assert not mails_for(running_services, cid, "reminder")
    finally:
        clock_offset_file.write_text("0")


async def test_redelivering_every_event_sends_nothing_new(running_services, watcher):
    request, conference = await scheduled(watcher, running_services)
    cid = conference["conference_id"]
    assert await watcher.until(lambda: len(mails_for(running_services, cid, "report_request")) == 4, 60), (
        f"{len(mails_for(running_services, cid, 'report_request'))} report requests mailed for {cid}; "
        f"{len(watcher.of_type('cpc.ReportRequested.v1', conference_id=cid))} requested")
    before = len(mails_for(running_services, cid, None))
    records = [s for s in watcher.seen if s.key in (cid, request["case_id"]) and s.topic in ("cpc.conferences", "cpc.reports")]
    producer = AIOKafkaProducer(bootstrap_servers=running_services.kafka, acks="all")
    await producer.start()
    try:
        for seen in records:
            await producer.send_and_wait(seen.topic, json.dumps(seen.data).encode(), key=seen.key.encode(),
                                         headers=[(k, v.encode()) for k, v in seen.headers.items()])
        again = dict(request)  # the same request once more, as a new delivery from the case-management system
        await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", again)])
    finally:
        await producer.stop()
    await watcher.until(lambda: False, timeout=8)
    assert len(mails_for(running_services, cid, None)) == before
    sent = watcher.of_type("cpc.NotificationSent.v1", conference_id=cid)
    assert len({s.data["notification_id"] for s in sent}) == len({s.headers["ce_id"] for s in sent})


async def test_the_store_holds_no_contact_detail_in_clear(running_services, watcher, database_prefix):
    request, conference = await scheduled(watcher, running_services)
    secrets = [v for p in request["participants"] for v in (p.get("name"), p.get("email"), p.get("phone")) if v]
    client = AsyncMongoClient(running_services.mongodb)
    try:
        db = client[f"{database_prefix}_notifications"]
        for name in await db.list_collection_names():
            async for document in db[name].find({}):
                text = repr(document)
                assert not [s for s in secrets if s in text], f"{name} holds contact details in clear"
        assert await db["contacts"].count_documents({"_id": request["case_id"]}) == 1
    finally:
        await client.close()


async def test_a_participant_who_cannot_be_reached_is_reported_failed_and_the_team_alerted(running_services, watcher):
    request = new_request()
    unreachable = request["participants"][1]  # the second parent: prefers texts, has no e-mail address
    unreachable.pop("email")
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", request)])
    assert await watcher.until(
        lambda: bool(watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])), 60)
    cid = watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])[0].data["conference_id"]
    assert await watcher.until(lambda: bool(watcher.of_type("cpc.NotificationFailed.v1", conference_id=cid)), 60)
    failed = watcher.of_type("cpc.NotificationFailed.v1", conference_id=cid)[0].data
    assert failed["recipient_id"] == unreachable["participant_id"] and failed["purpose"] == "invitation"
    assert await watcher.until(lambda: bool(mails_for(running_services, cid, "alert")), 30)
    alert = mails_for(running_services, cid, "alert")[0]
    text = next(p for p in alert.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert unreachable["participant_id"] in text and unreachable["phone"] not in text and unreachable["name"] not in text


async def test_a_participant_who_joins_the_case_is_invited_the_others_told_and_an_agency_that_leaves_let_go(
        running_services, watcher):
    request, conference = await scheduled(watcher, running_services)
    cid = conference["conference_id"]
    professionals = [p for p in request["participants"] if p["role"] == "professional"]
    leaving = professionals[0]
    agency = next(a for a in ("health", "police", "education", "housing", "probation")
                  if a not in {p["agency"] for p in professionals})
    newcomer = {"participant_id": f"{request['case_id']}-NEW", "role": "professional", "agency": agency,
                "name": "New Professional", "email": f"new.{cid.lower()}@partner.example"}

    def reports(event_type: str, of: str) -> list:
        return [r for r in watcher.of_type(event_type, conference_id=cid) if r.data["agency"] == of]

    assert await watcher.until(lambda: bool(reports("cpc.ReportRequested.v1", leaving["agency"])), 60)
    participants = [p for p in request["participants"] if p is not leaving] + [newcomer]
    await casemgmt.publish(running_services.kafka, [("casemgmt.CaseDetailsChanged.v1", {
        "case_id": request["case_id"], "participants": participants})])

    assert await watcher.until(lambda: bool(watcher.of_type("cpc.ConferenceRescheduled.v1", conference_id=cid)), 60)
    changed = watcher.of_type("cpc.ConferenceRescheduled.v1", conference_id=cid)[0].data
    assert changed["starts_at"] == conference["starts_at"] and changed["room_id"] == conference["room_id"]
    assert changed["version"] == conference["version"] + 1
    assert {i["participant_id"] for i in changed["invitees"]} == {p["participant_id"] for p in participants}

    assert await watcher.until(lambda: any(m["To"] == newcomer["email"] for m in mails_for(running_services, cid)), 60)
    assert len([m for m in mails_for(running_services, cid) if m["To"] == newcomer["email"]]) == 1
    assert await watcher.until(lambda: bool(reports("cpc.ReportRequested.v1", agency)), 60)
    assert await watcher.until(lambda: bool(reports("cpc.ReportWithdrawn.v1", leaving["agency"])), 60)
    # The same time and place: everyone still invited is told who will be there now, once; the professional
    # who left takes it out of their diary.
    stayed = [p for p in request["participants"] if p is not leaving]
    assert await watcher.until(lambda: len(mails_for(running_services, cid, "update")) == len(stayed), 60)
    updates = mails_for(running_services, cid, "update")
    assert sorted(m["To"] for m in updates) == sorted(p["email"] for p in stayed)
    assert all(body_of(m).startswith("The people invited to the meeting have changed.") for m in updates)
    assert await watcher.until(lambda: bool(mails_for(running_services, cid, "cancellation")), 60)
    (dropped,) = mails_for(running_services, cid, "cancellation")
    assert dropped["To"] == leaving["email"] and "no longer invited" in body_of(dropped)
    assert invite_of(dropped)["METHOD"] == "CANCEL"
