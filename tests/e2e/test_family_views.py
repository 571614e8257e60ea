"""The family's views before the conference, on the running stack and in real headless Chromium: a parent opens
the link from their real invitation (the Maildir) on a phone, writes, saves, comes back and finds their words; the
chair reads them before the agencies' reports; the social worker is told, without them; nothing of them travels on
a topic or lies in the store in clear. Accessibility by axe-core (no serious or critical violation) and by keyboard."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import httpx
import pytest
from cpc_shared.http import issue_token
from cpc_stack import infra, services
from cpc_stack.mail import family_link, text_of
from cpc_stack.paths import REPO
from pymongo import AsyncMongoClient

from tests.conftest import accessibility_problems, headless_chromium, mails_for, schedule

pytestmark = pytest.mark.e2e
ARTIFACTS = REPO / "test-artifacts"
# A phone; the page's Content-Security-Policy allows no script, so the test lets in axe-core's (bypass_csp).
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "bypass_csp": True}
ANSWERS = {"going_well": "We walk to school together every morning.",
           "worries": "Paying the rent this winter.",
           "would_help": "A place at the after-school club.",
           "meeting_should_know": "We want to work with you."}


@pytest.fixture
async def invited_parent(running_services, watcher):
    """A conference scheduled, and the link from the first parent's real invitation in the Maildir."""
    request, conference = await schedule(watcher, running_services)
    parent = next(p for p in request["participants"] if p["role"] == "parent" and p["preferred_channel"] == "email")
    cid = conference["conference_id"]

    def invitation() -> list:
        return [m for m in mails_for(running_services, cid) if m["To"] == parent["email"]]

    assert await watcher.until(lambda: bool(invitation()), 60), "the parent's invitation did not arrive"
    text = text_of(invitation()[0])
    assert text.count("/family/") == 1, "one personal link in the invitation"
    link = family_link(invitation()[0])
    assert link is not None
    return request, conference, link


async def test_a_parent_writes_their_views_on_a_phone_and_the_chair_reads_them_first(invited_parent, running_services,
                                                                                      watcher, database_prefix):
    request, conference, link = invited_parent
    cid = conference["conference_id"]
    address = urlsplit(link)
    assert (address.hostname, address.port) == ("127.0.0.1", services.SERVICES["reports"]), "the local reports service"
    assert cid not in link and not any(p["participant_id"] in link for p in request["participants"])
    ARTIFACTS.mkdir(exist_ok=True)
    async with headless_chromium() as browser:
        phone = await browser.new_context(**PHONE)
        page = await phone.new_page()
        opened = await page.goto(link)
        assert opened is not None and opened.status == 200
        assert await page.title() == "Your views before the meeting"
        assert await page.get_attribute("html", "lang") == "en"
        assert await accessibility_problems(page) == []
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
        await page.screenshot(path=ARTIFACTS / "family-form-phone.png", full_page=True)
        for question, text in ANSWERS.items():
            label = await page.inner_text(f"label[for={question}]")
            await page.get_by_label(label).fill(text)
        await page.get_by_role("button", name="Save my answers").click()
        await page.wait_for_url(re.compile(r"\?saved=1"))
        assert "Your answers are saved" in await page.inner_text("[role=status]")
        assert await accessibility_problems(page) == []
        await page.screenshot(path=ARTIFACTS / "family-form-saved-phone.png", full_page=True)

        again = await phone.new_page()  # they come back later with the same link
        await again.goto(link)
        assert {q: await again.input_value(f"#{q}") for q in ANSWERS} == ANSWERS
    assert (ARTIFACTS / "family-form-phone.png").stat().st_size > 10_000

    token = issue_token(infra.staff_token_secret(), subject="chair", role="chair", chair_id=conference["chair_id"])
    async with httpx.AsyncClient(base_url=services.api("reports"), headers={"Authorization": f"Bearer {token}"}) as api:
        assert await watcher.until(lambda: bool(watcher.of_type("cpc.ReportRequested.v1", conference_id=cid)), 30)
        response = await api.get(f"/conferences/{cid}/reports")
        assert response.status_code == 200, response.text
        assert response.text.index('"family_views"') < response.text.index('"reports"'), "the family's views first"
        views = response.json()["family_views"]
        assert [(v["role"], v["answers"]) for v in views] == [("parent", ANSWERS)]
        assert (await api.get(f"/conferences/{cid}/family-views", headers={"Authorization": ""})).status_code == 401

    def received() -> list:
        return watcher.of_type("cpc.FamilyViewsReceived.v1", conference_id=cid)

    assert await watcher.until(lambda: bool(received()), 30), "FamilyViewsReceived was not published"
    assert set(received()[0].data) == {"conference_id", "contribution_id", "participant_id", "role", "received_at",
                                       "version"}
    words = [w for text in ANSWERS.values() for w in text.split() if len(w) > 6]
    assert not any(word in json.dumps([s.data for s in watcher.seen]) for word in words), "their words on a topic"

    def told() -> list:
        return mails_for(running_services, cid, "family_views")

    assert await watcher.until(lambda: bool(told()), 30), "the social worker was not told"
    worker = next(p for p in request["participants"] if p["role"] == "social_worker")
    assert [m["To"] for m in told()] == [worker["email"]]
    assert not any(word in text_of(told()[0]) for word in words)

    client = AsyncMongoClient(running_services.mongodb)
    try:
        stored = await client[f"{database_prefix}_reports"]["family_views"].find().to_list()
    finally:
        await client.close()
    assert stored and not any(word in repr(stored) for word in words), "their words are sealed at rest"


async def test_the_form_works_with_a_keyboard_alone(invited_parent):
    _, _, link = invited_parent
    async with headless_chromium() as browser:
        page = await browser.new_page(viewport={"width": 390, "height": 844})
        await page.goto(link)
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.textContent") == "Skip to the questions"
        assert await page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
        await page.keyboard.press("Enter")
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.id") == "going_well"
        await page.keyboard.type("Typed with the keyboard alone.")
        for _ in range(4):  # past the other three questions to the button
            await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.tagName") == "BUTTON"
        assert await page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
        await page.keyboard.press("Enter")
        await page.wait_for_url(re.compile(r"\?saved=1"))
        assert await page.input_value("#going_well") == "Typed with the keyboard alone."
        await page.screenshot(path=ARTIFACTS / "family-form-keyboard.png", full_page=True)
