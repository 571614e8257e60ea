"""The family's views before the conference, on in-memory fakes: who may write, until when, what is kept sealed,
what is published (never their words), and what the chair reads."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cpc_reports import handlers
from cpc_reports.domain.family_views import MAX_ANSWER_CHARS, FamilyViews
from cpc_reports.domain.report import Refused
from cpc_reports.handlers import Reports
from cpc_shared.clock import FixedClock
from cpc_shared.contracts.outbound import ConferenceCancelled, ConferenceRescheduled, ConferenceScheduled, Invitee
from cpc_shared.fakes import InMemoryStore
from cpc_shared.family_link import BadLink, FamilyLink, FamilyLinks
from cryptography.fernet import Fernet

LONDON = ZoneInfo("Europe/London")
STARTS = datetime(2020, 4, 8, 9, 30, tzinfo=LONDON)  # a Wednesday; the desk's clock says 1 April
WORDS = {"going_well": "We go to the park on Sundays.", "worries": "Money, and the landlord.",
         "would_help": "Help with the school run.", "meeting_should_know": "We love our children."}


def arranged(starts_at: datetime = STARTS, version: int = 1, kind: type = ConferenceScheduled) -> ConferenceScheduled:
    invitees = [Invitee(participant_id="MUM", role="parent"), Invitee(participant_id="GRAN", role="carer"),
                Invitee(participant_id="KID", role="child"), Invitee(participant_id="ADV", role="advocate"),
                Invitee(participant_id="SW", role="social_worker", agency="childrens_social_care"),
                Invitee(participant_id="NURSE", role="professional", agency="health")]
    return kind(conference_id="CPC-1", case_id="C", request_id="R", conference_type="initial", starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=2), statutory_deadline=starts_at.date(), within_timescale=True,
                attendance_mode="virtual", office_id=None, room_id=None, chair_id="CHAIR-1", version=version,
                invitees=invitees)


def link(desk: Reports, participant_id: str = "MUM", **fields: object) -> str:
    return desk.links.issue(FamilyLink(**{"conference_id": "CPC-1", "participant_id": participant_id,
                                          "expires_at": STARTS + timedelta(days=30), **fields}))


def outbox(desk: Reports) -> list[dict]:
    store = desk.family_views.store
    assert isinstance(store, InMemoryStore)
    return store.outbox("family_views")


@pytest.fixture
async def conference(desk: Reports) -> Reports:
    await handlers.conference_scheduled(arranged(), desk)
    return desk


async def test_a_parent_saves_their_views_sealed_and_finds_them_again_with_the_same_link(conference: Reports):
    desk = conference
    form = await handlers.family_form(link(desk), desk)
    assert form.writer.role == "parent" and form.answers == {} and form.saved_at is None
    await handlers.save_family_views(link(desk), {**WORDS, "smuggled": "x"}, desk)
    again = await handlers.family_form(link(desk), desk)
    assert again.answers == WORDS and again.saved_at == desk.clock.now()
    stored = desk.family_views.store.collections["family_views"]  # type: ignore[attr-defined]
    assert "park" not in json.dumps(stored, default=str), "the store holds their words sealed, never in clear"


async def test_what_is_published_says_only_that_views_arrived(conference: Reports):
    desk = conference
    await handlers.save_family_views(link(desk), WORDS, desk)
    await handlers.save_family_views(link(desk), {**WORDS, "worries": "Nothing now."}, desk)
    events = outbox(desk)
    assert [e["type"] for e in events] == ["cpc.FamilyViewsReceived.v1"] * 2
    assert [e["data"]["version"] for e in events] == [1, 2]
    assert set(events[0]["data"]) == {"conference_id", "contribution_id", "participant_id", "role", "received_at",
                                      "version"}
    assert events[0]["data"]["role"] == "parent" and events[0]["data"]["participant_id"] == "MUM"
    assert not any(word in json.dumps(events, default=str) for word in ("park", "landlord", "Nothing now"))


async def test_a_child_is_asked_the_simpler_questions(conference: Reports):
    desk = conference
    await handlers.save_family_views(link(desk, "KID"), {"good_things": "My dog", "going_well": "ignored"}, desk)
    form = await handlers.family_form(link(desk, "KID"), desk)
    assert form.writer.role == "child" and form.answers == {"good_things": "My dog", "worries": "", "wishes": ""}


async def test_only_the_parents_carers_and_children_invited_may_write(conference: Reports):
    desk = conference
    for someone in ("NURSE", "SW", "ADV", "STRANGER"):
        with pytest.raises(Refused) as refused:
            await handlers.family_form(link(desk, someone), desk)
        assert refused.value.status == 403 and refused.value.reason == "not_invited"


async def test_the_form_closes_at_the_end_of_the_day_before_and_a_new_date_counts(conference: Reports):
    desk = conference
    desk.clock = FixedClock(datetime(2020, 4, 7, 22, 59, tzinfo=LONDON))
    assert (await handlers.family_form(link(desk), desk)).writer.closes_at == datetime(2020, 4, 8, tzinfo=LONDON)
    desk.clock = FixedClock(datetime(2020, 4, 8, 0, 0, tzinfo=LONDON))
    with pytest.raises(Refused) as refused:
        await handlers.save_family_views(link(desk), WORDS, desk)
    assert (refused.value.status, refused.value.reason) == (410, "closed")
    await handlers.conference_scheduled(arranged(STARTS + timedelta(days=7), 2, ConferenceRescheduled), desk)
    await handlers.save_family_views(link(desk), WORDS, desk)
    assert (await handlers.family_form(link(desk), desk)).answers == WORDS


async def test_a_cancelled_conference_takes_no_more_views(conference: Reports):
    desk = conference
    await handlers.conference_cancelled(ConferenceCancelled(conference_id="CPC-1", case_id="C", reason="x"), desk)
    with pytest.raises(Refused) as refused:
        await handlers.family_form(link(desk), desk)
    assert (refused.value.status, refused.value.reason) == (410, "cancelled")


async def test_a_link_changed_forged_or_expired_opens_nothing(conference: Reports):
    desk = conference
    good = link(desk)
    forged = FamilyLinks(Fernet.generate_key().decode()).issue(
        FamilyLink(conference_id="CPC-1", participant_id="MUM", expires_at=STARTS + timedelta(days=30)))
    expired = link(desk, expires_at=desk.clock.now())
    for token in (good[:-2] + "xx", forged, "", "../../etc/passwd"):
        with pytest.raises(BadLink) as bad:
            await handlers.family_form(token, desk)
        assert bad.value.reason == "this link is not complete or not valid"
    with pytest.raises(BadLink) as bad:
        await handlers.family_form(expired, desk)
    assert bad.value.reason == "this link has expired"


async def test_an_answer_too_long_is_refused_and_nothing_is_saved(conference: Reports):
    desk = conference
    with pytest.raises(Refused) as refused:
        await handlers.save_family_views(link(desk), {"worries": "x" * (MAX_ANSWER_CHARS + 1)}, desk)
    assert (refused.value.status, refused.value.reason) == (413, "worries")
    assert await desk.family_views.get(FamilyViews.id_for("CPC-1", "MUM")) is None


async def test_the_chair_reads_every_family_members_views_parents_first(conference: Reports):
    desk = conference
    await handlers.save_family_views(link(desk, "KID"), {"wishes": "To stay with mum"}, desk)
    await handlers.save_family_views(link(desk), WORDS, desk)
    views = await handlers.family_views_for("CPC-1", desk)
    assert [(v["participant_id"], v["role"]) for v in views] == [("MUM", "parent"), ("KID", "child")]
    assert views[0]["answers"] == WORDS and views[1]["answers"]["wishes"] == "To stay with mum"
