"""The main job on the real stack: a simulated fortnight, and a report whose figures agree with what the
services' own stores and the topics hold, drawn by a real browser. The report and `./dev conferences` read
the event log alone; the stores are read here only, to check it against them."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cpc_shared.profile import load_profile
from cpc_stack import eventlog, services
from cpc_stack.conferences import load, show
from cpc_stack.paths import REPO
from cpc_stack.simulation.run import simulate_and_report
from pymongo import AsyncMongoClient
from rich.console import Console
from rich.progress import Progress

from tests.conftest import headless_chromium

pytestmark = pytest.mark.e2e
LONDON = ZoneInfo("Europe/London")
START, DAYS = date(2022, 5, 9), 16
END = START + timedelta(days=DAYS)
ARTIFACTS = REPO / "test-artifacts"


class Run:
    def __init__(self, page: Path, printed: str, simulation_outcomes: Counter[str], cpu: dict[str, float],
                 seconds: float) -> None:
        self.page, self.printed, self.simulation_outcomes = page, printed, simulation_outcomes
        self.cpu, self.seconds = cpu, seconds  # CPU each process used over the run; the run's wall-clock seconds
        stem = page.with_suffix("")
        self.figures = json.loads(stem.with_suffix(".figures.json").read_text())
        self.events = [json.loads(line) for line in stem.with_suffix(".events.jsonl").read_text().splitlines()]


def _simulate(stack, service_env, profile: str, days: int, start: date) -> Iterator[Run]:
    """A short simulation (it stops the test services and runs its own), then the test services again."""
    console = Console(record=True, width=160)
    try:
        outcome = simulate_and_report(profile, days, 7, 40.0, start, console,
                                      progress_factory=lambda: Progress(console=console, disable=True))
        took = outcome.simulation.seconds
        yield Run(outcome.page, console.export_text(), outcome.simulation.families.outcomes, outcome.simulation.cpu,
                  took["simulated_days"] + took["catching_up"])
    finally:
        services.start(stack, extra_env=service_env)


@pytest.fixture(scope="module")
def simulation(stack, service_env) -> Iterator[Run]:
    yield from _simulate(stack, service_env, "gloucestershire", DAYS, START)


@pytest.fixture(scope="module")
def essex(stack, service_env) -> Iterator[Run]:
    yield from _simulate(stack, service_env, "essex", 10, date(2020, 3, 30))


def _in_window(starts_at: datetime) -> bool:
    return START <= starts_at.astimezone(LONDON).date() < END


def _counts_in_window(deadline: date, held: date | None) -> bool:
    """Held in the window, or not held by a deadline that fell in it (and so has passed by its end)."""
    return START <= (held or deadline) < END


def _census(conferences: list[tuple[str, str, date, date | None]]) -> dict[str, dict[str, int]]:
    """(conference id, kind, statutory deadline, day held or None) -> counted the census way for the window:
    by the day held; one not held by a deadline before the end counts as late in its deadline's period."""
    counts: dict[str, dict[str, int]] = {}
    for _, kind, deadline, held in conferences:
        if not _counts_in_window(deadline, held):
            continue
        figures = counts.setdefault(kind, {"conferences": 0, "within_timescale": 0, "not_held": 0})
        figures["conferences"] += 1
        figures["within_timescale"] += held is not None and held <= deadline
        figures["not_held"] += held is None
    return counts


async def test_the_report_counts_what_the_scheduling_store_holds(simulation, stack):
    prefix = simulation.figures["database_prefix"]
    client = AsyncMongoClient(stack.mongodb, tz_aware=True)
    try:
        stored = [c async for c in client[f"{prefix}_scheduling"]["conferences"].find({}, {"outbox": 0})]
        sent = [m async for m in client[f"{prefix}_notifications"]["messages"].find({"status": "sent"}, {"outbox": 0})]
    finally:
        await client.close()
    end = datetime(END.year, END.month, END.day, tzinfo=LONDON)
    counted = []
    for c in stored:
        if c["status"] in ("informal_review_held",) or (c["status"] == "cancelled" and not c.get("held_on")):
            continue
        held = date.fromisoformat(c["held_on"]) if c.get("held_on") else (
            c["starts_at"].astimezone(LONDON).date() if c.get("starts_at") and c["starts_at"] <= end else None)
        counted.append((c["_id"], "reconvened" if c.get("reconvened_from") else c["conference_type"],
                        date.fromisoformat(c["statutory_deadline"]), held))
    assert any(kind == "initial" and held for _, kind, _, held in counted), "initial conferences were held"
    assert simulation.figures["by_kind"] == _census(counted)
    assert sum(m["count"] for m in simulation.figures["messages"]) == len(sent)


async def test_the_event_log_tells_what_each_services_store_holds(simulation, stack):
    """Conferences' states, the rooms booked, reports' states and the messages sent, folded from the events
    the run published, are what scheduling, rooms, reports and notifications stored."""
    prefix, log = simulation.figures["database_prefix"], eventlog.fold(simulation.events)
    assert simulation.figures["settled"] is True
    client = AsyncMongoClient(stack.mongodb, tz_aware=True)
    try:
        conferences = await client[f"{prefix}_scheduling"]["conferences"].find({}, {"status": 1}).to_list()
        booked = await client[f"{prefix}_rooms"]["bookings"].find({"status": "booked"}, {"_id": 1}).to_list()
        reports = await client[f"{prefix}_reports"]["reports"].find(
            {}, {"status": 1, "late": 1, "due_at": 1, "agency": 1}).to_list()
        sent = await client[f"{prefix}_notifications"]["messages"].find({"status": "sent"}, {"channel": 1}).to_list()
    finally:
        await client.close()
    assert {cid: c.status for cid, c in log.conferences.items()} == {c["_id"]: c["status"] for c in conferences}
    assert simulation.figures["conferences_in_store"] == len(conferences)
    assert sorted(b.booking_id for b in log.booked()) == sorted(b["_id"] for b in booked)
    assert booked, "rooms were booked"

    def millis(at: datetime) -> datetime:  # the store keeps times to the millisecond
        return at.replace(microsecond=at.microsecond // 1000 * 1000)

    folded = {r.report_id: (r.agency, r.status, r.late if r.status == "submitted" else None, millis(r.due_at))
              for c in log.conferences.values() for r in c.reports.values()}
    assert folded == {r["_id"]: (r["agency"], r["status"], r.get("late") if r["status"] == "submitted" else None,
                                 r["due_at"]) for r in reports}
    assert Counter(m.channel for c in log.conferences.values() for m in c.messages.values() if m.status == "sent"
                   ) == Counter(m["channel"] for m in sent)


def test_the_conferences_command_reads_a_finished_simulation(simulation):
    """The services are stopped after a run: `./dev conferences --run <the run>` reads its record of events."""
    console = Console(record=True, width=250)
    prefix, log = simulation.figures["database_prefix"], eventlog.fold(simulation.events)
    assert show(console, "127.0.0.1:1", prefix, None, set(), 5)  # no broker needed
    assert f"{len(log.conferences)} conferences in {simulation.page.stem}" in console.export_text()
    held = next(c for c in log.conferences.values() if c.status == "held")
    assert show(console, "127.0.0.1:1", prefix, held.id, set(), 5)
    shown = console.export_text()
    assert f"{held.id}" in shown and "held" in shown and f"outcome recorded: held on {held.held_on}" in shown


def test_the_conferences_command_leaves_the_simulations_out_of_the_topics(simulation, stack):
    """On the topics, a simulation's conferences would mix with the local services' (and another run's, with
    the same ids): `./dev conferences` leaves out what was published while a simulation ran."""
    record = simulation.page.with_suffix("").with_suffix(".events.jsonl")
    assert eventlog.published_between(record), "the record keeps when its events were published"
    _, local = load("local", stack.kafka)
    assert not set(local.conferences) & set(eventlog.fold(simulation.events).conferences)


async def test_the_report_agrees_with_the_topics(simulation):
    # As a subscriber sees them: an event delivered twice (the outbox publishes at least once) counts once.
    events, figures = list({e["id"]: e for e in simulation.events}.values()), simulation.figures
    assert figures["settled"] is True, "the services caught up before the report was read"
    latest: dict[str, dict] = {}
    for event in events:
        if event["type"] in ("cpc.ConferenceScheduled.v1", "cpc.ConferenceRescheduled.v1",
                             "cpc.ConferenceDeadlineAtRisk.v1"):
            data = event["data"]
            if data["conference_id"] not in latest or data.get("version", 0) >= latest[data["conference_id"]].get("version", 0):
                latest[data["conference_id"]] = {**latest.get(data["conference_id"], {}), **data}
    cancelled = {e["data"]["conference_id"] for e in events if e["type"] == "cpc.ConferenceCancelled.v1"}
    held_on = {e["data"]["conference_id"]: date.fromisoformat(e["data"]["held_on"]) for e in events
               if e["type"] == "casemgmt.ConferenceOutcomeRecorded.v1"}
    end = datetime(END.year, END.month, END.day, tzinfo=LONDON)
    counted = []
    for cid, c in latest.items():
        booked = datetime.fromisoformat(c["starts_at"]) if c.get("starts_at") else None
        held = held_on.get(cid) or (booked.astimezone(LONDON).date() if booked and booked <= end and cid not in cancelled
                                    else None)
        if cid in cancelled and held is None:
            continue
        counted.append((cid, "reconvened" if c.get("reconvened_from") else c["conference_type"],
                        date.fromisoformat(c["statutory_deadline"]), held))
    reported = {row["conference_id"] for row in figures["late"]}
    recounted = _census(counted)
    assert figures["by_kind"] == recounted, (
        f"late on the topics, not in the report's late list: "
        f"{sorted(c for c, _, d, h in counted if (h is None or h > d) and c not in reported)}")
    initial = recounted["initial"]
    assert f"{initial['within_timescale'] / initial['conferences']:.1%} of {initial['conferences']}" in simulation.printed
    assert reported == {c for c, _, deadline, held in counted
                        if _counts_in_window(deadline, held) and (held is None or held > deadline)}

    sent = Counter((e["data"]["channel"], e["data"]["purpose"]) for e in events if e["type"] == "cpc.NotificationSent.v1")
    assert {(m["channel"], m["purpose"]): m["count"] for m in figures["messages"]} == dict(sent)

    # Reports: the latest word on each (requested, submitted, withdrawn) and its due time.
    reports: dict[str, dict] = {}
    for event in events:
        if event["topic"] == "cpc.reports" and "report_id" in event["data"]:
            report = reports.setdefault(event["data"]["report_id"], {"agency": event["data"]["agency"]})
            report["due_at"] = event["data"].get("due_at", report.get("due_at"))
            if event["type"] == "cpc.ReportSubmitted.v1":
                report["late"] = event["data"]["late"]
            elif event["type"] == "cpc.ReportWithdrawn.v1":
                report["withdrawn"] = True
    counted = Counter()
    for report in reports.values():
        if not report.get("withdrawn") and _in_window(datetime.fromisoformat(report["due_at"])):
            counted[(report["agency"], "late" if report.get("late") else "on_time") if "late" in report
                    else (report["agency"], "not_in")] += 1
    for agency in {a for a, _ in counted}:
        states = figures["reports"].get(agency, {})
        assert states.get("on_time", 0) == counted[(agency, "on_time")], agency
        assert states.get("late", 0) == counted[(agency, "late")], agency
        assert states.get("missing", 0) + states.get("outstanding", 0) == counted[(agency, "not_in")], agency


async def test_some_families_write_their_views_and_the_report_counts_the_conferences_that_had_them(simulation, stack):
    """Simulated parents follow the link in their invitation and write on the form; the report's share of conferences
    with the family's views in before the day is what the reports store holds (sealed) and scheduling held."""
    prefix, views = simulation.figures["database_prefix"], simulation.figures["family_views"]
    client = AsyncMongoClient(stack.mongodb, tz_aware=True)
    try:
        conferences = await client[f"{prefix}_scheduling"]["conferences"].find(
            {}, {"status": 1, "starts_at": 1}).to_list()
        written = await client[f"{prefix}_reports"]["family_views"].find({}, {"conference_id": 1, "first_saved_at": 1,
                                                                              "sealed_answers": 1}).to_list()
    finally:
        await client.close()
    held = {c["_id"]: c["starts_at"].astimezone(LONDON).date() for c in conferences
            if c.get("starts_at") and c["status"] != "cancelled" and _in_window(c["starts_at"])}
    before = {w["conference_id"] for w in written if w["conference_id"] in held
              and w["first_saved_at"] < datetime.combine(held[w["conference_id"]], datetime.min.time(), tzinfo=LONDON)}
    assert views["with_views"] == len(before) > 0 and views["conferences"] == len(held)
    assert views["family_members"] == len(written) and views["saves"] >= len(written)
    assert simulation.simulation_outcomes.get("saved", 0) == len(written)
    assert "the family's views in before the day" in simulation.printed
    assert all(w["sealed_answers"].startswith("gAAAAA") for w in written), "sealed at rest"


def test_the_run_counts_the_cpu_each_part_of_the_stack_used_while_it_ran(simulation):
    """Each process's CPU over the simulated days and the catching up (./dev bench's cost per conference):
    some used, and no more than every core could give in that time."""
    import os

    parts = {*services.SERVICES, "kafka", "ferretdb"}
    assert parts <= set(simulation.cpu)
    for part in parts:
        assert 0 < simulation.cpu[part] <= (os.cpu_count() or 1) * simulation.seconds, part


def test_each_conference_was_held_as_the_policy_of_its_day_says(simulation):
    """Gloucestershire brought initial conferences back into the office on 16 May 2022, within the fortnight."""
    profile = load_profile(REPO / "profiles/gloucestershire-2022.yaml")
    modes = Counter()
    for event in simulation.events:
        if event["type"] in ("cpc.ConferenceScheduled.v1", "cpc.ConferenceRescheduled.v1"):
            conference = event["data"]
            day = datetime.fromisoformat(conference["starts_at"]).astimezone(LONDON).date()
            assert conference["attendance_mode"] == profile.policy_on(day).attendance[conference["conference_type"]]
            modes[conference["attendance_mode"]] += 1
    assert modes["in_person"] and modes["virtual"], modes
    assert "2022-05-16" in {day for day, _ in simulation.figures["policy_switches"]}


def test_essex_2020_runs_every_conference_online_with_quoracy_suspended(essex):
    scheduled = [e["data"] for e in essex.events if e["type"] in ("cpc.ConferenceScheduled.v1",
                                                                    "cpc.ConferenceRescheduled.v1")]
    assert scheduled, "Essex scheduled conferences"
    assert {c["attendance_mode"] for c in scheduled} == {"virtual"}
    assert not [e for e in essex.events if e["type"] in ("cpc.RoomBooked.v1", "cpc.QuorumAtRisk.v1")]
    assert set(essex.figures["per_office_day"]) == {"online"}, "conferences held in the ten days, none in an office"
    assert essex.figures["settled"] is True


# Every chart is a canvas Chart.js draws (its file written into the report): its bars must colour pixels.
COLOURED_PIXELS = """(canvas) => {
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let coloured = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i + 3] > 0 && Math.max(pixels[i], pixels[i + 1], pixels[i + 2]) - Math.min(pixels[i], pixels[i + 1], pixels[i + 2]) > 40) coloured++;
  }
  const box = canvas.getBoundingClientRect();
  return {coloured, width: box.width, height: box.height, chart: Chart.getChart(canvas) !== undefined};
}"""


async def test_the_html_report_draws_its_charts_in_chromium(simulation):
    ARTIFACTS.mkdir(exist_ok=True)
    async with headless_chromium() as browser:
        page = await browser.new_page(viewport={"width": 1100, "height": 900})
        await page.goto(simulation.page.as_uri())
        assert "of initial conferences within 15 working days" in await page.inner_text("p.big")
        assert "<script src=" not in simulation.page.read_text(), "the report fetches nothing"
        charts = page.locator("canvas.chart")
        assert await charts.count() == 5  # held on time, room use, modes, reports, messages
        for n in range(await charts.count()):
            drawn = await charts.nth(n).evaluate(COLOURED_PIXELS)
            assert drawn["chart"] and drawn["width"] > 300 and drawn["height"] > 40, drawn
            assert drawn["coloured"] > 200, f"chart {n} draws no bars: {drawn}"
        await page.screenshot(path=ARTIFACTS / "simulation-report.png", full_page=True)
    assert (ARTIFACTS / "simulation-report.png").stat().st_size > 20_000
