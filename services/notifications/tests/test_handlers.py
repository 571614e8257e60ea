"""The notifications service layer on in-memory fakes: who is told what, once, and what is published."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cpc_notifications import handlers
from cpc_notifications.domain.notification import Notification, NotificationStatus, Timer
from cpc_notifications.handlers import Notifications
from cpc_shared.clock import FixedClock
from cpc_shared.contracts.inbound import Participant
from cpc_shared.contracts.outbound import (
    ConferenceRescheduled,
    ConferenceScheduled,
    FamilyViewsReceived,
    Invitee,
    ReportRequested,
)
from cpc_shared.fakes import InMemoryStore, RecordingRelay
from cpc_shared.family_link import FamilyLinks
from cpc_shared.profile import load_profile
from cpc_shared.repository import Repository
from cpc_shared.sealing import Seal
from cryptography.fernet import Fernet

PROFILE = load_profile(Path(__file__).resolve().parents[3] / "profiles" / "gloucestershire-2022.yaml")
STARTS = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)
PEOPLE = [Participant(participant_id="P1", role="parent", name="Sam", email="sam@family.example"),
          Participant(participant_id="SW", role="social_worker", agency="childrens_social_care", email="sw@council.example"),
          Participant(participant_id="PO", role="professional", agency="police", email="po@police.example")]


class InMemoryKnown:
    def __init__(self) -> None:
        self.cases: dict[str, dict[str, Any]] = {}
        self.conferences: dict[str, dict[str, Any]] = {}

    async def case(self, case_id: str) -> dict[str, Any] | None:
        return self.cases.get(case_id)

    async def remember_case(self, case_id: str, fields: dict[str, Any]) -> None:
        case = self.cases.setdefault(case_id, {"_id": case_id})
        for path, value in fields.items():  # "participants.P1": {...}, as MongoDB's $set takes it
            *parents, last = path.split(".")
            node = case
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = value

    async def conference(self, conference_id: str) -> dict[str, Any] | None:
        return self.conferences.get(conference_id)

    async def remember_conference(self, conference_id: str, fields: dict[str, Any]) -> None:
        self.conferences.setdefault(conference_id, {"_id": conference_id}).update(fields)


class Outbox:
    def __init__(self) -> None:
        self.sender, self.sent = "cpc@council.example", []

    async def send(self, **message: Any) -> None:
        self.sent.append(message)

LINKS = FamilyLinks(Fernet.generate_key().decode())


@pytest.fixture
def post() -> Notifications:
    store, relay = InMemoryStore(), RecordingRelay()
    return Notifications(notifications=Repository(store, Notification, relay), timers=Repository(store, Timer, relay),
                         known=InMemoryKnown(), seal=Seal(Fernet.generate_key().decode()), email=Outbox(),
                         texts=None, profile=PROFILE, calendar=PROFILE.calendar(),
                         clock=FixedClock(datetime(2026, 11, 24, 11, tzinfo=UTC)), team_mailbox="team@council.example",
                         links=LINKS, form_base_url="https://cpc.council.example")


def scheduled(version: int = 1, starts_at: datetime = STARTS, kind: type = ConferenceScheduled) -> ConferenceScheduled:
    return kind(conference_id="CPC-1", case_id="CASE-1", request_id="R", conference_type="initial",
                starts_at=starts_at, ends_at=starts_at + timedelta(hours=2), statutory_deadline=starts_at.date(),
                within_timescale=True, attendance_mode="virtual", office_id=None, room_id=None, chair_id="CHAIR-1",
                meeting_link="https://meet.example/CPC-1", version=version,
                invitees=[Invitee(participant_id=p.participant_id, role=p.role, agency=p.agency) for p in PEOPLE])


def sent(post: Notifications) -> list[tuple[str, str]]:
    store = post.notifications.store
    assert isinstance(store, InMemoryStore)
    return [(e["data"]["recipient_id"], e["data"]["purpose"]) for e in store.outbox("messages")]


async def test_everyone_invited_is_told_once_and_again_only_when_the_meeting_changes(post):
    await handlers.remember_contacts("CASE-1", PEOPLE, None, post)
    await handlers.conference_scheduled(scheduled(), post)
    await handlers.conference_scheduled(scheduled(), post)  # redelivered: nothing new
    assert sorted(sent(post)) == [("P1", "invitation"), ("PO", "invitation"), ("SW", "invitation")]
    assert {m["to"] for m in post.email.sent} == {"sam@family.example", "sw@council.example", "po@police.example"}
    later = STARTS + timedelta(days=1)
    await handlers.conference_scheduled(scheduled(2, later, ConferenceRescheduled), post)
    assert sorted(x for x in sent(post) if x[1] == "update") == [("P1", "update"), ("PO", "update"), ("SW", "update")]
    assert len(sent(post)) == 6 and len(post.email.sent) == 6
    reminders = await post.timers.find({"status": "waiting"})
    assert {t.purpose for t in reminders if t.conference_version == 2} == {"reminder-5", "reminder-1"}


async def test_a_report_request_goes_to_its_author_only(post):
    await handlers.remember_contacts("CASE-1", PEOPLE, None, post)
    await handlers.conference_scheduled(scheduled(), post)
    request = ReportRequested(conference_id="CPC-1", report_id="RPT-1", agency="police", author_role="professional",
                              due_at=STARTS - timedelta(days=3), conference_starts_at=STARTS)
    await handlers.report_message(request, "report_request", request.due_at.isoformat(), post)
    await handlers.report_message(request, "report_request", request.due_at.isoformat(), post)
    assert [x for x in sent(post) if x[1] == "report_request"] == [("PO", "report_request")]


async def test_a_person_who_cannot_be_reached_fails_on_their_channel_and_the_team_is_asked_to_help(post):
    unreachable = Participant(participant_id="P2", role="parent", phone="07700900002", preferred_channel="sms")
    await handlers.remember_contacts("CASE-1", [*PEOPLE, unreachable], None, post)
    conference = scheduled()
    conference.invitees.append(Invitee(participant_id="P2", role="parent"))
    await handlers.conference_scheduled(conference, post)
    failed = await post.notifications.get(Notification.id_for("CPC-1", "P2", "invitation", "1"))
    assert failed is not None and failed.status == NotificationStatus.FAILED and failed.channel == "sms"
    assert failed.failure == "no text message service is configured"
    assert ("cpc-team", "alert") in sent(post) and "07700900002" not in repr(post.email.sent)


async def test_a_participant_whose_id_holds_a_dot_is_reached_like_any_other(post):
    """Ids become field names in the contacts document, where a dot would be read as a path: it is escaped."""
    dotted = Participant(participant_id="CASE.1/P.1", role="parent", email="p@family.example")
    await handlers.remember_contacts("CASE-1", [*PEOPLE, dotted], None, post)
    assert "CASE%2E1/P%2E1" in post.known.cases["CASE-1"]["participants"]
    conference = scheduled()
    conference.invitees.append(Invitee(participant_id="CASE.1/P.1", role="parent"))
    await handlers.conference_scheduled(conference, post)
    assert ("CASE.1/P.1", "invitation") in sent(post)


async def test_a_parents_invitation_carries_their_own_link_to_the_form_and_a_professionals_none(post):
    await handlers.remember_contacts("CASE-1", PEOPLE, None, post)
    await handlers.conference_scheduled(scheduled(), post)
    mails = {m["to"]: m["body"] for m in post.email.sent}
    line = next(line for line in mails["sam@family.example"].splitlines() if "/family/" in line)
    assert line.startswith("https://cpc.council.example/family/")
    link = LINKS.read(line.rsplit("/", 1)[1], post.clock.now())
    assert (link.conference_id, link.participant_id, link.language) == ("CPC-1", "P1", "en")
    assert link.expires_at > STARTS, "it outlives the form, which closes the day before"
    # A short id like "P1" can turn up by chance inside the sealed token's base64: readable means standing apart.
    assert not re.search(r"(?<![A-Za-z0-9_-])(P1|CPC-1)(?![A-Za-z0-9_-])", line), "nothing readable in the URL"
    assert "CPC-1" not in line and "?" not in line
    assert "until the end of Monday 7 December" in mails["sam@family.example"]
    assert "/family/" not in mails["po@police.example"] + mails["sw@council.example"]


async def test_the_social_worker_is_told_once_that_a_family_member_wrote_and_never_what(post):
    await handlers.remember_contacts("CASE-1", PEOPLE, None, post)
    await handlers.conference_scheduled(scheduled(), post)
    for version in (1, 1, 2):  # redelivered, then saved again
        await handlers.family_views_received(FamilyViewsReceived(
            conference_id="CPC-1", contribution_id="FV-1", participant_id="P1", role="parent",
            received_at=STARTS - timedelta(days=3), version=version), post)
    told = [m for m in post.email.sent if m["purpose"] == "family_views"]
    assert [m["to"] for m in told] == ["sw@council.example"]
    assert "A family member (a parent) has written their views" in told[0]["body"] and "Sam" not in told[0]["body"]
    assert ("SW", "alert") in sent(post)


class CountingStore(InMemoryStore):
    """Counts the calls that reach the store, as the real one would get them."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    async def find(self, collection, document_id):  # type: ignore[no-untyped-def]
        self.calls.append(f"find {collection}")
        return await super().find(collection, document_id)

    async def find_ids(self, collection, document_ids):  # type: ignore[no-untyped-def]
        self.calls.append(f"find_ids {collection}")
        return await super().find_ids(collection, document_ids)

    async def insert(self, collection, document):  # type: ignore[no-untyped-def]
        self.calls.append(f"insert {collection}")
        return await super().insert(collection, document)

    async def insert_many(self, collection, documents):  # type: ignore[no-untyped-def]
        self.calls.append(f"insert_many {collection}")
        return {document["_id"] for document in documents
                if not await InMemoryStore.insert(self, collection, document)}

    async def update_if(self, collection, document_id, expect, update):  # type: ignore[no-untyped-def]
        self.calls.append(f"update_if {collection}")
        return await super().update_if(collection, document_id, expect, update)


async def test_what_one_event_sends_is_checked_in_one_read_and_stored_in_one_write_however_many_are_told(post):
    store = CountingStore()
    post.notifications = Repository(store, Notification, RecordingRelay())
    post.timers = Repository(store, Timer, RecordingRelay())
    await handlers.remember_contacts("CASE-1", PEOPLE, None, post)
    await handlers.conference_scheduled(scheduled(), post)
    assert len(post.email.sent) == 3
    assert store.calls == ["find_ids messages", "insert_many messages", "insert_many timers"]
    store.calls.clear()
    await handlers.conference_scheduled(scheduled(), post)  # redelivered
    assert store.calls == ["find_ids messages", "insert_many timers"] and len(post.email.sent) == 3


class FailingAfter(Outbox):
    """A mail server that takes `good` mails, then goes away."""

    def __init__(self, good: int) -> None:
        super().__init__()
        self.good = good

    async def send(self, **message: Any) -> None:
        if len(self.sent) >= self.good:
            raise ConnectionRefusedError("mail server away")
        await super().send(**message)


async def test_a_channel_that_fails_for_now_keeps_what_it_sent_and_the_event_tried_again_sends_only_the_rest(post):
    post.email = FailingAfter(good=1)
    await handlers.remember_contacts("CASE-1", PEOPLE, None, post)
    with pytest.raises(handlers.SendFailed):
        await handlers.conference_scheduled(scheduled(), post)
    assert len(sent(post)) == 1 and len(post.email.sent) == 1
    first = post.email.sent[0]["message_id"]
    assert (await post.notifications.get(first)) is not None
    post.email.good = 10  # the server is back: the event comes again
    await handlers.conference_scheduled(scheduled(), post)
    assert sorted(sent(post)) == [("P1", "invitation"), ("PO", "invitation"), ("SW", "invitation")]
    assert len(post.email.sent) == 3 and len({m["message_id"] for m in post.email.sent}) == 3


async def test_a_notification_an_earlier_version_claimed_and_never_settled_is_sent_and_saved(post):
    await handlers.remember_contacts("CASE-1", PEOPLE, None, post)
    claimed = Notification.claim(Notification.id_for("CPC-1", "SW", "invitation", "1"), "CPC-1", "SW", "invitation",
                                 "1", "en")
    assert await post.notifications.add(claimed)  # stored `sending`, as before the notifications were batched
    await handlers.conference_scheduled(scheduled(), post)
    stored = await post.notifications.get(claimed.id)
    assert stored is not None and stored.status == NotificationStatus.SENT and stored.revision == 2
    assert sorted(sent(post)) == [("P1", "invitation"), ("PO", "invitation"), ("SW", "invitation")]
