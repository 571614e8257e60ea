"""The dashboard's pages: sign in with a staff token; the fortnight on the service's clock (at risk first, then
timeliness this month, conferences by office and chair, room calendars, dead letters), refreshed in place every
15 seconds by htmx; one conference's page with the chair's actions, whose refusals are shown as the API words them.

Server-rendered (Jinja2); the browser runs only the vendored htmx and Chart.js, served from here. Identifiers and
roles only: no name or contact detail of anyone reaches the page.

(No `from __future__ import annotations` here: FastAPI reads the parameters from the annotations.)"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cpc_shared.repository import StaleWrite
from cpc_shared.web import DRAW_SCRIPT, vendored_script
from cpc_shared.web.charts import bar_chart, canvas
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from cpc_scheduling import operations
from cpc_scheduling.api import NATIONAL_INITIAL_ON_TIME, compliance_between
from cpc_scheduling.dashboard import session
from cpc_scheduling.dashboard.facts import TeamFacts, Unavailable
from cpc_scheduling.dashboard.week import DAYS_SHOWN, Standing, first_monday, risks, this_month
from cpc_scheduling.domain.conference import UPCOMING, Conference, ConferenceStatus
from cpc_scheduling.handlers import Scheduling
from cpc_scheduling.operations import Refused

HERE = Path(__file__).parent
PAGES = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))
STATIC = {"dashboard.css": ((HERE / "static" / "dashboard.css").read_bytes(), "text/css"),
          "charts.js": (DRAW_SCRIPT.read_bytes(), "text/javascript"),
          "chart.umd.min.js": (vendored_script("chart.umd.min.js"), "text/javascript"),
          "htmx.min.js": (vendored_script("htmx.min.js"), "text/javascript")}
HEADERS = {
    "Cache-Control": "no-store", "Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY", "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
}
REFRESH_SECONDS = 15
MAX_FORM_BYTES = 8192
DONE = {"reschedule": "The new time is asked for: it shows here once a room is booked for it (at once for a "
                      "conference held online).",
        "informal-review": "Informal review recorded; the next review is planned.",
        "family-could-not-join": "Recorded that the family could not join: the two discussions with them are now "
                                 "tasks for the team."}


def dashboard_router(s: Scheduling, facts: TeamFacts, secret: str) -> APIRouter:
    router = APIRouter(prefix="/dashboard", include_in_schema=False)
    council, profile = s.council, s.council.profile
    offices = {office.id: office for office in profile.offices}
    rooms = {room.id: room.name for office in profile.offices for room in office.rooms}

    def render(template: str, status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(PAGES.get_template(template).render(refresh=REFRESH_SECONDS, **values),
                            status_code=status, headers=HEADERS)

    def signed_in_or_none(request: Request) -> session.SignedIn | None:
        return session.signed_in(request, secret)

    def to_sign_in() -> RedirectResponse:
        return RedirectResponse("/dashboard/sign-in", status_code=303, headers=HEADERS)

    @router.get("/static/{name}")
    async def static(name: str) -> Response:
        if name not in STATIC:
            raise HTTPException(404, f"no file {name}")
        content, media_type = STATIC[name]
        return Response(content, media_type=media_type, headers={"Cache-Control": "max-age=3600",
                                                                 "X-Content-Type-Options": "nosniff"})

    @router.get("/sign-in")
    async def sign_in_page(request: Request) -> Response:
        return render("sign_in.html", signed_in=signed_in_or_none(request))

    @router.post("/sign-in")
    async def sign_in(request: Request) -> Response:
        form = await _form(request)
        if form is None or not session.same_origin(request):
            return render("sign_in.html", 400, error="That sign-in did not come from this page: try again.")
        token = form.get("token", "").strip()
        if not token:
            return render("sign_in.html", 422, error="Paste your staff token to sign in.")
        response = RedirectResponse("/dashboard", status_code=303, headers=HEADERS)
        try:
            session.sign_in(request, secret, token, response)
        except HTTPException as refusal:
            words = ("That token is not valid (it may have expired): ask for a new one." if refusal.status_code == 401
                     else "The dashboard is for chairs, coordinators and managers; that token is for an agency.")
            return render("sign_in.html", refusal.status_code, error=words)
        return response

    @router.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        me = signed_in_or_none(request)
        form = await _form(request)
        if me is not None and (form is None or not session.csrf_ok(form, me) or not session.same_origin(request)):
            raise HTTPException(403, "sign out from the dashboard's own page")
        response = to_sign_in()
        session.sign_out(request, response)
        return response

    @router.get("")
    async def week(request: Request) -> Response:
        me = signed_in_or_none(request)
        if me is None:
            return to_sign_in()
        return render("week.html", me=me, **await fortnight(me))

    @router.get("/sections")
    async def sections(request: Request) -> Response:
        me = signed_in_or_none(request)
        if me is None:
            return render("signed_out.html", 401)
        return render("sections.html", me=me, **await fortnight(me))

    async def fortnight(me: session.SignedIn) -> dict[str, Any]:
        now = s.clock.now()
        today = council.local_date(now)
        monday = first_monday(today)
        start = datetime.combine(monday, time(0), tzinfo=council.zone)
        end = start + timedelta(days=DAYS_SHOWN)
        found = await s.conferences.find({"$or": [{"starts_at": {"$gte": start, "$lt": end}},
                                                  {"status": {"$in": [status.value for status in UPCOMING]}}]})
        mine = [c for c in found if me.identity.role != "chair" or c.chair_id == me.identity.chair_id]
        shown = sorted((c for c in mine if c.starts_at and start <= c.starts_at < end
                        and c.status != ConferenceStatus.CANCELLED), key=lambda c: (c.starts_at, c.id))
        problems: list[str] = []
        try:
            standings = await facts.standings([c.id for c in shown], me.token)
        except Unavailable:
            standings = {}
            problems.append("The reports service did not answer: reports and the family's views are not shown.")
        at_risk = [{"row": row(c, me, standings.get(c.id)), "why": why}
                   for c in sorted(mine, key=lambda c: (c.statutory_deadline, c.id))
                   if (why := risks(c, today, council, standings.get(c.id)))]
        by_office: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        for conference in shown:
            office = offices[conference.office_id].name if conference.office_id in offices else "Virtual"
            by_office[office][conference.chair_id or "no chair"].append(row(conference, me, standings.get(conference.id)))
        return {"now": now.astimezone(council.zone), "monday": monday, "last_day": monday + timedelta(days=DAYS_SHOWN - 1),
                "at_risk": at_risk, "by_office": {office: dict(chairs) for office, chairs in sorted(by_office.items())},
                "per_day": Markup(per_day_chart(shown, monday)), "count": len(shown),
                "month": await month(today), "rooms": await room_calendars(me, monday, problems),
                "dead_letters": await dead_letters(problems), "problems": problems}

    def row(conference: Conference, me: session.SignedIn, standing: Standing | None) -> dict[str, Any]:
        starts = conference.starts_at.astimezone(council.zone) if conference.starts_at else None
        if conference.attendance_mode == "virtual" or (conference.starts_at and not conference.room_id):
            where = "online" + (f": {council.links.link_for(conference.id)}" if conference.starts_at else "")
        else:
            where = rooms.get(conference.room_id or "", conference.room_id or "no room yet")
            if conference.attendance_mode == "hybrid":
                where += f" (hybrid: {council.links.link_for(conference.id)})"
        return {"conference_id": conference.id, "kind": conference.conference_type.replace("_", " "),
                "starts": starts, "deadline": conference.statutory_deadline, "where": where,
                "status": conference.status.value.replace("_", " "), "chair_id": conference.chair_id,
                "on_time": not (starts and starts.date() > conference.statutory_deadline),
                "standing": standing, "family_could_not_join": conference.family_could_not_join,
                "may_change": me.may_change(conference.chair_id)}

    def per_day_chart(shown: list[Conference], monday: date) -> str:
        days = [monday + timedelta(days=n) for n in range(DAYS_SHOWN)]
        counts: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(days))
        for conference in shown:
            assert conference.starts_at is not None
            office = offices[conference.office_id].name if conference.office_id in offices else "Virtual"
            counts[office][(council.local_date(conference.starts_at) - monday).days] += 1
        config = bar_chart([f"{d:%a} {d.day}" for d in days], dict(sorted(counts.items())), stacked=True)
        return canvas(config, "Conferences per day this week and next, by office", "medium")

    async def month(today: date) -> dict[str, Any]:
        first, last = this_month(today)
        figures = await compliance_between(s, first, last)
        kinds = figures["by_type"]
        shares = {kind: round(100 * kinds[kind]["share_within_timescale"], 1) for kind in ("initial", "review")
                  if kind in kinds}
        national = round(100 * float(NATIONAL_INITIAL_ON_TIME["share"]), 1)  # type: ignore[arg-type]
        config = bar_chart([f"{kind} ({kinds[kind]['conferences']})" for kind in shares],
                           {"on time this month": list(shares.values())}, percent=True,
                           reference=(f"England, initial: {national}%", national))
        return {"first": first, "last": last, "kinds": kinds, "shares": shares, "national": national,
                "late": len(figures["late"]),
                "chart": Markup(canvas(config, f"Conferences on time this month beside England's {national}%", "small"))
                if shares else None}

    async def room_calendars(me: session.SignedIn, monday: date, problems: list[str]) -> list[dict[str, Any]]:
        try:  # the rooms API gives a week at a time
            weeks = [await facts.room_calendars(list(offices), first, 7, me.token)
                     for first in (monday, monday + timedelta(days=7))]
        except Unavailable:
            problems.append("The rooms service did not answer: the room calendars are not shown.")
            return []
        calendars = [{**this, "rooms": [{**room, "bookings": room["bookings"] + later["bookings"]}
                                        for room, later in zip(this["rooms"], after["rooms"], strict=True)]}
                     for this, after in zip(*weeks, strict=True)]
        days = [monday + timedelta(days=n) for n in range(DAYS_SHOWN) if n % 7 < 5]  # working weeks
        shown = []
        for calendar in calendars:
            table = []
            for room in calendar["rooms"]:
                cells = {d: [] for d in days}  # type: dict[date, list[str]]
                for booking in room["bookings"]:
                    at = datetime.fromisoformat(booking["starts_at"]).astimezone(council.zone)
                    if at.date() in cells:
                        cells[at.date()].append(f"{at:%H:%M} {booking['conference_id']}")
                table.append({"room": room["name"], "cells": [cells[d] for d in days]})
            shown.append({"office": calendar["name"], "days": days, "rooms": table,
                          "booked": sum(len(r["bookings"]) for r in calendar["rooms"])})
        return shown

    async def dead_letters(problems: list[str]) -> dict[str, int]:
        try:
            return await facts.dead_letters()
        except Unavailable:
            problems.append("Kafka did not answer: the dead letters waiting are not shown.")
            return {}

    @router.get("/conferences/{conference_id}")
    async def conference_page(conference_id: str, request: Request, done: str = "") -> Response:
        me = signed_in_or_none(request)
        if me is None:
            return to_sign_in()
        return await show_conference(me, conference_id, notice=DONE.get(done, ""))

    async def show_conference(me: session.SignedIn, conference_id: str, *, notice: str = "", error: str = "",
                              status: int = 200) -> Response:
        conference = await s.conferences.get(conference_id)
        if conference is None:
            return render("message.html", 404, me=me, title="No such conference",
                          message=f"There is no conference {conference_id}.")
        try:
            standing = (await facts.standings([conference.id], me.token)).get(conference.id)
        except Unavailable:
            standing = None
        today = council.local_date(s.clock.now())
        return render("conference.html", status, me=me, c=row(conference, me, standing), conference=conference,
                      why=risks(conference, today, council, standing), notice=notice, error=error,
                      invitees=[(i.participant_id, i.role.replace("_", " "), (i.agency or "").replace("_", " "))
                                for i in conference.invitees],
                      tasks=await s.tasks.of_conference(conference_id), today=today,
                      sessions=[t.strftime("%H:%M") for t in profile.session_starts],
                      may_review=conference.conference_type == "review")

    @router.post("/conferences/{conference_id}/{action}")
    async def act(conference_id: str, action: str, request: Request) -> Response:
        me = signed_in_or_none(request)
        if me is None:
            return to_sign_in()
        if action not in DONE:
            raise HTTPException(404, f"no action {action}")
        form = await _form(request)
        if form is None:
            return await show_conference(me, conference_id, error="That form was too big.", status=413)
        if not session.csrf_ok(form, me) or not session.same_origin(request):
            return await show_conference(me, conference_id, status=403,
                                         error="That came from another page: use the buttons on this one.")
        if me.identity.role not in ("chair", "manager"):
            return await show_conference(me, conference_id, status=403,
                                         error="Only the conference's chair or a manager may change a conference.")
        try:
            await perform(action, conference_id, form, me)
        except Refused as refusal:
            return await show_conference(me, conference_id, error=_sentence(refusal.reason), status=refusal.status)
        except StaleWrite:
            return await show_conference(me, conference_id, status=409,
                                         error="The conference changed meanwhile: look again and try again.")
        except ValueError as bad:
            return await show_conference(me, conference_id, error=str(bad), status=422)
        return RedirectResponse(f"/dashboard/conferences/{conference_id}?done={action}", status_code=303,
                                headers=HEADERS)

    async def perform(action: str, conference_id: str, form: dict[str, str], me: session.SignedIn) -> dict[str, Any]:
        if action == "reschedule":
            day, at = _date(form, "day", "the new day"), form.get("time", "")
            try:
                starts = datetime.combine(day, time.fromisoformat(at), tzinfo=council.zone)
            except ValueError:
                raise ValueError("Choose one of the session times.") from None
            return await operations.reschedule(conference_id, starts, form.get("reason") or None, me.identity, s)
        if action == "informal-review":
            held_on = _date(form, "held_on", "the day it was held")
            next_by = _date(form, "next_review_by", "the next review's date") if form.get("next_review_by") else None
            return await operations.informal_review(conference_id, held_on, next_by, me.identity, s)
        return await operations.family_could_not_join(conference_id, me.identity, s)

    return router


def _date(form: dict[str, str], field: str, what: str) -> date:
    try:
        return date.fromisoformat(form.get(field, ""))
    except ValueError:
        raise ValueError(f"Give {what} as a date.") from None


def _sentence(reason: str) -> str:
    return reason[:1].upper() + reason[1:] + ("" if reason.endswith(".") else ".")


async def _form(request: Request) -> dict[str, str] | None:
    """A small url-encoded form, or None when it is bigger than any of ours."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    return {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
