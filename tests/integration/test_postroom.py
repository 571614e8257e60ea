"""The notifications handlers on the real store: a message that can never be sent fails on the channel it was meant for, and
a text held back overnight that Notify then refuses for good fails alone, without holding up the texts after it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cpc_notifications import handlers
from cpc_notifications.adapters.notify import PermanentFailure
from cpc_notifications.adapters.store import MESSAGES, TIMERS, StoredKnown, prepare
from cpc_notifications.domain.notification import Notification, Timer
from cpc_shared.clock import FixedClock
from cpc_shared.contracts.inbound import Participant
from cpc_shared.contracts.outbound import ConferenceScheduled, Invitee
from cpc_shared.fakes import RecordingRelay
from cpc_shared.family_link import FamilyLinks
from cpc_shared.profile import load_profile
from cpc_shared.repository import DocumentStore, Repository
from cpc_shared.sealing import Seal
from cpc_shared.settings import ServiceSettings
from cpc_shared.store import connect
from cryptography.fernet import Fernet

PROFILE = load_profile(Path(__file__).resolve().parents[2] / "profiles" / "gloucestershire-2022.yaml")
LONDON = ZoneInfo("Europe/London")
REFUSED = "07700900999"


class Mailbox:
    def __init__(self) -> None:
        self.sender, self.sent = "cpc@council.example", []

    async def send(self, **message) -> None:
        self.sent.append(message)


class Notify:
    """Stands in for GOV.UK Notify: refuses one number for good, takes the others."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_sms(self, *, phone: str, body: str, reference: str) -> None:
        if phone == REFUSED:
            raise PermanentFailure("Notify refused the message (400)")
        self.sent.append(reference)


async def postroom_at(stack, at: datetime, notify: Notify | None):
    settings = ServiceSettings(mongodb_url=stack.mongodb, database_prefix=f"cpc_test_postroom_{uuid.uuid4().hex[:8]}")
    client, db = connect(settings, "notifications")
    await prepare(db)
    return Postroom(db, FixedClock(at), notify), db, client


class Postroom:
    """The notifications service's handlers on one store, called by name."""

    def __init__(self, db, clock: FixedClock, notify: Notify | None) -> None:
        store = DocumentStore(db, "ferretdb1")
        self.clock = clock
        self.post = handlers.Notifications(
            notifications=Repository(store, Notification, RecordingRelay()), timers=Repository(store, Timer, RecordingRelay()),
            known=StoredKnown(store), seal=Seal(Fernet.generate_key().decode()), email=Mailbox(), texts=notify,
            profile=PROFILE, calendar=PROFILE.calendar(), clock=clock, team_mailbox="team@council.example",
            links=FamilyLinks(Fernet.generate_key().decode()), form_base_url="http://127.0.0.1:8103")

    async def remember_contacts(self, case_id: str, people: list[Participant], family) -> None:
        await handlers.remember_contacts(case_id, people, family, self.post)

    async def conference_scheduled(self, conference: ConferenceScheduled) -> None:
        await handlers.conference_scheduled(conference, self.post)

    async def send_due(self) -> None:
        await handlers.send_due(self.post)


def conference(case_id: str, invitees: list[Participant]) -> ConferenceScheduled:
    starts_at = datetime(2026, 12, 8, 9, 30, tzinfo=LONDON)
    return ConferenceScheduled(
        conference_id=f"CPC-{uuid.uuid4().hex[:8]}", case_id=case_id, request_id="R", conference_type="initial",
        starts_at=starts_at, ends_at=starts_at + timedelta(hours=2), statutory_deadline=starts_at.date(),
        within_timescale=True, attendance_mode="virtual", office_id=None, room_id=None, chair_id="CHAIR-1",
        version=1, invitees=[Invitee(participant_id=p.participant_id, role=p.role, agency=p.agency) for p in invitees])


def outbox_types(message: dict) -> list[tuple[str, str]]:
    return [(entry["type"], entry["data"]["channel"]) for entry in message.get("outbox", [])]


async def test_a_message_that_cannot_be_sent_fails_on_the_channel_the_person_asked_for(stack):
    room, db, client = await postroom_at(stack, datetime(2026, 11, 24, 11, tzinfo=LONDON), notify=None)
    try:
        people = [Participant(participant_id="P1", role="parent", phone="07700900001", preferred_channel="sms"),
                  Participant(participant_id="P2", role="parent", preferred_channel="letter"),
                  Participant(participant_id="SW", role="social_worker", agency="childrens_social_care",
                              email="sw@council.example")]
        await room.remember_contacts("CASE-1", people, None)
        scheduled = conference("CASE-1", people)
        await room.conference_scheduled(scheduled)
        messages = {m["recipient_id"]: m async for m in db[MESSAGES].find({"purpose": "invitation"})}
        assert messages["P1"]["status"] == "failed"
        assert outbox_types(messages["P1"]) == [("cpc.NotificationFailed.v1", "sms")]
        assert outbox_types(messages["P2"]) == [("cpc.NotificationFailed.v1", "letter")]
        assert outbox_types(messages["SW"]) == [("cpc.NotificationSent.v1", "email")]
        alerts = [m async for m in db[MESSAGES].find({"purpose": "alert"})]
        assert len(alerts) == 2 and all(outbox_types(a) == [("cpc.NotificationSent.v1", "email")] for a in alerts)
    finally:
        await client.drop_database(db.name)
        await client.close()


async def test_a_held_back_text_refused_for_good_fails_alone_and_the_next_texts_still_go(stack):
    notify = Notify()
    room, db, client = await postroom_at(stack, datetime(2026, 11, 24, 21, 30, tzinfo=LONDON), notify=notify)  # quiet hours
    try:
        people = [Participant(participant_id="P1", role="parent", phone=REFUSED, preferred_channel="sms"),
                  Participant(participant_id="P2", role="parent", phone="07700900002", preferred_channel="sms")]
        await room.remember_contacts("CASE-2", people, None)
        await room.conference_scheduled(conference("CASE-2", people))
        held = {m["recipient_id"]: m["status"] async for m in db[MESSAGES].find({"purpose": "invitation"})}
        assert held == {"P1": "deferred", "P2": "deferred"} and notify.sent == []

        room.clock.set(datetime(2026, 11, 25, 8, 5, tzinfo=LONDON))  # the morning: both texts fall due
        await room.send_due()
        messages = {m["recipient_id"]: m async for m in db[MESSAGES].find({"purpose": "invitation"})}
        assert messages["P1"]["status"] == "failed"
        assert outbox_types(messages["P1"]) == [("cpc.NotificationFailed.v1", "sms")]
        assert messages["P2"]["status"] == "sent" and notify.sent == [messages["P2"]["_id"]]
        assert outbox_types(messages["P2"]) == [("cpc.NotificationSent.v1", "sms")]
        timers = {t["_id"].split("|")[0]: t["status"] async for t in db[TIMERS].find({"purpose": "deferred_text"})}
        assert set(timers.values()) == {"done"}
        assert await db[MESSAGES].count_documents({"purpose": "alert"}) == 1  # the team is asked to reach P1
    finally:
        await client.drop_database(db.name)
        await client.close()
