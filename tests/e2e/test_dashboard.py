"""The conference team's dashboard, on the running stack and in real headless Chromium: a chair signs in with their
staff token, sees a conference just scheduled with its deadline, room, reports and the family's views, is refused
with the API's words when a reschedule past the deadline has no reason, records that the family could not join and
moves the conference, and the page and the API agree. Managers and coordinators see every chair's conferences;
a chair only their own, and changes only those. Identifiers and roles only, never a name or contact detail;
accessibility by axe-core (no serious or critical violation); screenshots in test-artifacts/."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from cpc_shared.http import issue_token
from cpc_shared.profile import load_profile
from cpc_stack import infra, services
from cpc_stack.paths import REPO
from playwright.async_api import Page, expect

from tests.conftest import accessibility_problems, headless_chromium, schedule

pytestmark = pytest.mark.e2e
ARTIFACTS = REPO / "test-artifacts"
DASHBOARD = f"http://127.0.0.1:{services.SERVICES['scheduling']}/dashboard"
PROFILE = load_profile(REPO / "profiles" / "gloucestershire-2022.yaml")
ZONE = ZoneInfo(PROFILE.timezone)
# axe-core goes in as a script of its own; the page's Content-Security-Policy lets in only the service's.
DESK = {"viewport": {"width": 1366, "height": 900}, "bypass_csp": True}


def token(role: str, chair_id: str | None = None) -> str:
    return issue_token(infra.staff_token_secret(), subject=f"test-{role}", role=role, chair_id=chair_id)  # type: ignore[arg-type]


@pytest.fixture
async def this_fortnight(running_services, watcher):
    """A conference just scheduled whose deadline falls this week or next (strategy discussion 12 days ago)."""
    basis = date.today() - timedelta(days=12)
    request, conference = await schedule(watcher, running_services, basis_date=basis.isoformat())
    return request, conference


def personal_details(request: dict) -> list[str]:
    """Everything in the request a chair's dashboard must not show: names, e-mail addresses, phones, postcode."""
    return [p[key] for p in request["participants"] for key in ("name", "email", "phone") if p.get(key)] + [
        request["family"]["postcode"]]


async def sign_in(page: Page, staff_token: str) -> None:
    await page.goto(f"{DASHBOARD}/sign-in")
    await page.get_by_label("Your staff token").fill(staff_token)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(DASHBOARD)


def working_days_to(deadline: date, chair_id: str, avoid: date) -> list[date]:
    """Days the chair works from tomorrow to the deadline, latest first (the reschedule's candidates)."""
    chair, calendar = PROFILE.chair(chair_id), PROFILE.calendar()
    assert chair is not None
    days = [date.today() + timedelta(days=n) for n in range(1, (deadline - date.today()).days + 1)]
    return [d for d in reversed(days) if calendar.is_working_day(d) and chair.available_on(d) and d != avoid]


async def scheduled_again(conference_id: str) -> None:
    async with httpx.AsyncClient(base_url=services.api("scheduling"),
                                 headers={"Authorization": f"Bearer {token('manager')}"}) as api:
        for _ in range(60):
            if (await api.get(f"/conferences/{conference_id}")).json()["status"] == "scheduled":
                return
            await asyncio.sleep(0.5)
    raise AssertionError(f"{conference_id} was not scheduled again after rooms refused its move")


async def test_a_chair_sees_a_conference_just_scheduled_and_changes_it_from_the_page(this_fortnight, watcher):
    request, conference = this_fortnight
    cid, chair_id = conference["conference_id"], conference["chair_id"]
    deadline = date.fromisoformat(conference["statutory_deadline"])
    ARTIFACTS.mkdir(exist_ok=True)
    async with headless_chromium() as browser:
        context = await browser.new_context(**DESK)
        page = await context.new_page()
        await sign_in(page, token("chair", chair_id))
        cookie = next(c for c in await context.cookies() if c["name"] == "cpc_dashboard")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/dashboard"

        link = page.get_by_role("link", name=cid)
        await expect(link.first).to_be_visible()
        row = page.locator("tr", has=page.get_by_role("link", name=cid)).last
        assert deadline.strftime("%a %d %b") in await row.inner_text()
        per_day = page.get_by_role("img", name="Conferences per day this week and next, by office")
        await expect(per_day).to_be_visible()
        assert await per_day.evaluate("c => Chart.getChart(c).data.datasets.flatMap(d => d.data)"
                                      ".reduce((a, b) => a + b, 0)") >= 1, "the chart counts the conference"
        text = await page.content()
        assert not [detail for detail in personal_details(request) if detail in text], "names or contact details"
        assert await accessibility_problems(page) == []
        await page.screenshot(path=ARTIFACTS / "dashboard-week-chair.png", full_page=True)

        await link.first.click()
        await page.wait_for_url(f"{DASHBOARD}/conferences/{cid}")
        assert await page.title() == f"Conference {cid}: conference team"
        after = next(d for d in (deadline + timedelta(days=n) for n in range(1, 15))
                     if PROFILE.calendar().is_working_day(d))
        await page.get_by_label("New day", exact=True).fill(after.isoformat())
        async with page.expect_navigation():
            await page.get_by_role("button", name="Reschedule").click()
        alert = page.get_by_role("alert")
        await expect(alert).to_contain_text(f"after the statutory deadline {deadline.isoformat()}: give the reason")
        text = await page.content()
        assert not [detail for detail in personal_details(request) if detail in text]
        assert await accessibility_problems(page) == []
        await page.screenshot(path=ARTIFACTS / "dashboard-conference-refused.png", full_page=True)

        await page.get_by_role("button", name="Record that the family could not join").click()
        await page.wait_for_url(re.compile(r"\?done=family-could-not-join"))
        await expect(page.get_by_role("status")).to_contain_text("could not join")
        await expect(page.locator("#family-could-join")).to_contain_text("no: discussions with them")

        current = datetime.fromisoformat(conference["starts_at"]).astimezone(ZONE).date()

        def rescheduled() -> list:
            return watcher.of_type("cpc.ConferenceRescheduled.v1", conference_id=cid)

        def no_room() -> int:
            return len(watcher.of_type("cpc.RoomUnavailable.v1", conference_id=cid))

        moved = None
        for day in working_days_to(deadline, chair_id, current):
            for session in PROFILE.session_starts:
                await page.get_by_label("New day", exact=True).fill(day.isoformat())
                await page.get_by_label("Session", exact=True).select_option(session.strftime("%H:%M"))
                refused = no_room()
                async with page.expect_navigation():
                    await page.get_by_role("button", name="Reschedule").click()
                if not await page.get_by_role("status").count():
                    continue  # the chair is busy then
                # Other tests hold rooms too: with none free at that time the conference stays where it was.
                assert await watcher.until(lambda refused=refused: bool(rescheduled()) or no_room() > refused, 60), \
                    "neither ConferenceRescheduled nor RoomUnavailable was published"
                if rescheduled():
                    moved = (day, session)
                    break
                await scheduled_again(cid)  # the refusal handled: it can be moved again
            if moved:
                break
        assert moved, "no session of the chair's with a room free before the deadline"
        await page.reload()
        await expect(page.locator("#when")).to_contain_text(moved[0].strftime("%A %d %B %Y") + ", "
                                                            + moved[1].strftime("%H:%M"))
        await page.screenshot(path=ARTIFACTS / "dashboard-conference-moved.png", full_page=True)

        await page.get_by_role("link", name="Back to the week").click()
        await page.wait_for_url(DASHBOARD)
        async with page.expect_response(lambda r: r.url == f"{DASHBOARD}/sections", timeout=30_000) as refreshed:
            pass  # htmx asks for the sections again within 15 seconds and swaps them in
        assert (await refreshed.value).status == 200
        row = page.locator("tr", has=page.get_by_role("link", name=cid)).last
        await expect(row).to_contain_text("could not join")
        await expect(row).to_contain_text(moved[0].strftime("%a %d %b") + " " + moved[1].strftime("%H:%M"))

    async with httpx.AsyncClient(base_url=services.api("scheduling"),
                                 headers={"Authorization": f"Bearer {token('manager')}"}) as api:
        found = (await api.get(f"/conferences/{cid}")).json()
    assert found["family_could_not_join"] is True
    starts = datetime.fromisoformat(found["starts_at"]).astimezone(ZONE)
    assert (starts.date(), starts.time()) == moved


async def test_managers_and_coordinators_see_every_chair_and_a_chair_only_their_own(this_fortnight):
    request, conference = this_fortnight
    cid, chair_id = conference["conference_id"], conference["chair_id"]
    other_chair = next(chair.id for chair in PROFILE.chairs if chair.id != chair_id)

    @contextlib.asynccontextmanager
    async def client(role: str, chair: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(base_url=DASHBOARD) as signed_in:
            response = await signed_in.post("/sign-in", data={"token": token(role, chair)})
            assert response.status_code == 303, response.text
            yield signed_in

    async def csrf(page: httpx.Response) -> str:
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert found
        return found.group(1)

    for role in ("manager", "coordinator"):
        async with client(role) as who:
            week = await who.get(DASHBOARD)
            assert week.status_code == 200 and f'href="/dashboard/conferences/{cid}"' in week.text
            assert not [detail for detail in personal_details(request) if detail in week.text]
            page = await who.get(f"/conferences/{cid}")
            assert ("Record that the family could not join" in page.text) == (role == "manager")
    async with client("coordinator") as coordinator:
        page = await coordinator.get(f"/conferences/{cid}")
        refused = await coordinator.post(f"/conferences/{cid}/family-could-not-join", data={"csrf": await csrf(page)})
        assert refused.status_code == 403 and "chair or a manager" in refused.text

    async with client("chair", other_chair) as chair:
        week = await chair.get(DASHBOARD)
        assert week.status_code == 200 and other_chair in week.text
        # not among their conferences (the room calendars show every booking, as the rooms API does)
        assert f'href="/dashboard/conferences/{cid}"' not in week.text
        page = await chair.get(f"/conferences/{cid}")
        assert "Record that the family could not join" not in page.text
        refused = await chair.post(f"/conferences/{cid}/family-could-not-join", data={"csrf": await csrf(page)})
        assert refused.status_code == 403
        assert 'role="alert"><p>Only this conference&#39;s chair or a manager may change it.' in refused.text
        forged = await chair.post(f"/conferences/{cid}/family-could-not-join", data={"csrf": "0" * 64})
        assert forged.status_code == 403 and "another page" in forged.text
        elsewhere = await chair.post(f"/conferences/{cid}/family-could-not-join", data={"csrf": await csrf(page)},
                                     headers={"Origin": "https://elsewhere.example"})
        assert elsewhere.status_code == 403

    async with httpx.AsyncClient(base_url=DASHBOARD) as nobody:
        assert (await nobody.get(DASHBOARD)).headers["location"] == "/dashboard/sign-in"
        assert (await nobody.get("/sections")).status_code == 401
        bad = await nobody.post("/sign-in", data={"token": "not-a-token"})
        assert bad.status_code == 401 and "not valid" in bad.text
        agency = await nobody.post("/sign-in", data={"token": issue_token(infra.staff_token_secret(), subject="a",
                                                                          role="agency", agency="police")})
        assert agency.status_code == 403 and "for chairs, coordinators and managers" in agency.text
