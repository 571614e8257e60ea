"""The main job on the real stack: a simulated period, and a report whose figures agree with what the
services' stores and topics hold."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from rich.progress import Progress

from cpc_shared.profile import load_profile
from cpc_stack import services
from cpc_stack.paths import REPO
from cpc_stack.simulation.run import simulate_and_report

pytestmark = pytest.mark.e2e
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def simulation(stack, service_env):
    """Run a short simulation (it stops the services and runs its own), then restore the test services."""
    console = Console(record=True, width=120)
    page = simulate_and_report("gloucestershire", 16, 7, 40.0, date(2022, 5, 9), console,
                               progress_factory=lambda: Progress(console=console, disable=True))
    yield page, console.export_text()
    services.start(stack, extra_env=service_env)


def test_a_simulated_fortnight_produces_a_report_that_agrees_with_the_topics(simulation):
    page, printed = simulation
    events = [json.loads(line) for line in page.with_suffix("").with_suffix(".events.jsonl").read_text().splitlines()]
    start, end = date(2022, 5, 9), date(2022, 5, 9) + timedelta(days=16)
    latest: dict[str, dict] = {}
    for event in events:
        if event["type"] in ("cpc.ConferenceScheduled.v1", "cpc.ConferenceRescheduled.v1"):
            data = event["data"]
            if data["conference_id"] not in latest or data["version"] >= latest[data["conference_id"]]["version"]:
                latest[data["conference_id"]] = data
    cancelled = {e["data"]["conference_id"] for e in events if e["type"] == "cpc.ConferenceCancelled.v1"}
    held_initial = [c for c in latest.values() if c["conference_type"] == "initial" and c["conference_id"] not in cancelled
                    and start <= datetime.fromisoformat(c["starts_at"]).astimezone(LONDON).date() < end]
    assert held_initial, "some initial conferences were held in the period"
    on_time = sum(c["within_timescale"] for c in held_initial)
    assert f"{on_time / len(held_initial):.1%} of {len(held_initial)}" in printed

    html = page.read_text()
    assert html.count("<svg") >= 4 and "<rect" in html
    # Gloucestershire's initial conferences went back in person on 16 May 2022: the report marks the switch.
    assert "2022-05-16" in html
    profile = load_profile(REPO / "profiles/gloucestershire-2022.yaml")
    for conference in latest.values():  # each in the mode of the policy in force on its day
        day = datetime.fromisoformat(conference["starts_at"]).astimezone(LONDON).date()
        assert conference["attendance_mode"] == profile.policy_on(day).attendance[conference["conference_type"]]
