"""The family's form over HTTP, on the in-memory desk: pages, limits and refusals as a browser meets them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from cpc_reports import handlers
from cpc_reports.api import build_api
from cpc_reports.family.limits import RateLimit
from cpc_reports.handlers import Reports
from cpc_shared.contracts.outbound import ConferenceScheduled, Invitee
from cpc_shared.family_link import FamilyLink

LONDON = ZoneInfo("Europe/London")
STARTS = datetime(2020, 4, 8, 9, 30, tzinfo=LONDON)


@pytest.fixture
async def browser(desk: Reports):
    await handlers.conference_scheduled(ConferenceScheduled(
        conference_id="CPC-1", case_id="C", request_id="R", conference_type="initial", starts_at=STARTS,
        ends_at=STARTS + timedelta(hours=2), statutory_deadline=STARTS.date(), within_timescale=True,
        attendance_mode="virtual", office_id=None, room_id=None, chair_id="CHAIR-1",
        invitees=[Invitee(participant_id="MUM", role="parent"),
                  Invitee(participant_id="SW", role="social_worker", agency="childrens_social_care")]), desk)
    token = desk.links.issue(FamilyLink(conference_id="CPC-1", participant_id="MUM", language="pl",
                                        expires_at=STARTS + timedelta(days=30)))
    api = build_api(desk, "staff-secret", (RateLimit(5, 600), RateLimit(100, 60)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://reports") as client:
        yield client, token


async def test_the_form_is_in_the_familys_language_with_labels_and_safe_headers(browser):
    client, token = browser
    page = await client.get(f"/family/{token}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="pl">' in page.text and "Co Cię martwi?" in page.text and '<label for="worries">' in page.text
    assert "wtorek 7 kwietnia" in page.text, "open until the end of the day before"
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    english = await client.get(f"/family/{token}?lang=en")
    assert '<html lang="en">' in english.text and "What worries you?" in english.text


async def test_saving_redirects_to_the_form_which_shows_what_was_saved(browser):
    client, token = browser
    saved = await client.post(f"/family/{token}?lang=en", data={"worries": "<b>Money</b> & the landlord"},
                        follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/family/{token}?saved=1&lang=en"
    page = await client.get(saved.headers["location"])
    assert "Your answers are saved" in page.text and 'role="status"' in page.text
    assert "&lt;b&gt;Money&lt;/b&gt; &amp; the landlord" in page.text, "their words shown as text, never as markup"


async def test_a_bad_link_gets_a_plain_page_with_what_to_do_and_no_trace(browser):
    client, _ = browser
    page = await client.get("/family/not-a-token")
    assert page.status_code == 404 and "This link does not work" in page.text
    assert "Traceback" not in page.text and "contact your social worker" in page.text


async def test_too_big_a_form_is_refused_unread_and_too_long_an_answer_is_shown_again(browser):
    client, token = browser
    huge = await client.post(f"/family/{token}", content=b"worries=" + b"x" * 70_000,
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert huge.status_code == 413 and "za duże" in huge.text
    long = await client.post(f"/family/{token}?lang=en", data={"worries": "y" * 4001, "going_well": "kept"})
    assert long.status_code == 413 and "There is a problem" in long.text and 'aria-invalid="true"' in long.text
    assert ">kept</textarea>" in long.text, "what they wrote is kept to shorten, not lost"


async def test_one_link_asking_too_often_is_told_to_wait(browser):
    client, token = browser
    statuses = [(await client.get(f"/family/{token}?lang=en")).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    waited = await client.get(f"/family/{token}?lang=en")
    assert "Please wait 10 minutes" in waited.text and int(waited.headers["retry-after"]) > 500


async def test_odd_query_values_and_an_unknown_path_get_a_page_not_an_error(browser):
    client, token = browser
    odd = await client.get(f"/family/{token}?saved=yes&lang=xx-<script>")
    assert odd.status_code == 200 and '<html lang="en">' in odd.text and "<script>" not in odd.text
    assert (await client.get("/family/a/b")).status_code == 404
