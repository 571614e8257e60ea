"""`cpc simulate`: the stack, the simulated period, the report on screen and in HTML."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cpc_shared.profile import load_profile
from rich.console import Console
from rich.progress import Progress

from cpc_stack import eventlog, infra, services
from cpc_stack.paths import RUN
from cpc_stack.simulation.report import gather, render_html, summary
from cpc_stack.simulation.runner import Simulation, default_run

REPORTS = RUN / "reports"


@dataclass(frozen=True)
class Outcome:
    page: Path
    figures: dict[str, Any]
    simulation: Simulation
    events: int  # the services published
    memory: dict[str, float]  # each service's peak resident memory over the run (MB)


def simulate_and_report(profile: str, days: int, seed: int, speed: float, start: date | None, console: Console,
                        progress_factory: Callable[[], Progress], scenario: str | None = None) -> Outcome:
    run = default_run(profile, days, seed, speed, start, scenario)  # a scenario that does not fit fails here, first
    endpoints = infra.up()
    under = "" if run.scenario.name == "none" else f" under scenario {run.scenario.name}"
    console.print(f"Simulating {profile} for {days} days from {run.start}{under} (seed {seed}); "
                  f"databases {run.database_prefix}_*")
    with progress_factory() as progress:
        task = progress.add_task("simulated days", total=days)

        def advance(done: int, total: int, day: str) -> None:
            progress.update(task, completed=done, description=f"simulated {day}")

        simulation = Simulation(run, endpoints, advance)
        memory: dict[str, float] = {}
        try:
            watcher = asyncio.run(simulation.execute())
        finally:
            memory = services.peak_resident_mb()
            services.stop()
    events = eventlog.as_events(watcher.seen)
    figures = gather(load_profile(run.profile_path), run.start, days, events)
    figures["scenario"] = {"name": run.scenario.name, "description": run.scenario.description}
    REPORTS.mkdir(parents=True, exist_ok=True)
    name = f"{profile}-{run.start.isoformat()}-{days}d-seed{seed}" + ("" if under == "" else f"-{run.scenario.name}")
    page = REPORTS / f"{name}.html"
    page.write_text(render_html(figures))
    # The same figures for machines, with the run they came from; and the topics' record they were counted from.
    (REPORTS / f"{name}.figures.json").write_text(json.dumps(
        {**figures, "database_prefix": run.database_prefix, "profile": profile, "seed": seed,
         "settled": simulation.settled}, indent=1, default=str))
    eventlog.write(events, REPORTS / f"{name}.events.jsonl")
    console.print(summary(figures))
    if not simulation.settled:
        console.print("[yellow]The services had not caught up 10 minutes after the period ended: the figures "
                      "count what the topics held when the run stopped.[/yellow]")
    if simulation.families.outcomes:
        console.print("Simulated parents who followed the link in their invitation: " + ", ".join(
            f"{count} {what}" for what, count in sorted(simulation.families.outcomes.items())) +
            " (410: they tried on the day, when the form had closed).")
    for reason, count in simulation.refused.items():
        console.print(f"[yellow]{count} report submissions refused: {reason}[/yellow]")
    if simulation.skipped:
        console.print(f"{simulation.skipped} records an earlier run left unread were skipped.")
    events = sum(1 for s in watcher.seen if s.topic.startswith("cpc."))
    console.print(f"Published {simulation.published} case-management events; the services published {events} events.")
    took = simulation.seconds
    if took:
        console.print(f"Took {took['simulated_days']:.0f} s for the simulated days ({simulation.paced:.0f} s of it "
                      f"waiting for the simulated clock, --speed {speed:g}; {simulation.kept_pace:.0f} s for the "
                      f"services to handle each hour's work before the next), then {took['catching_up']:.0f} s for "
                      "the services to finish (3 s of it making sure they had).")
    if simulation.went_on_behind:
        console.print(f"[red]The clock went on {simulation.went_on_behind} times with the services still behind "
                      "after 2 minutes: the figures are not those of services keeping up.[/red]")
    console.print(f"Report: {page}")
    console.print(f"Each conference: ./dev conferences --run {run.database_prefix} [CONFERENCE_ID]")
    return Outcome(page, figures, simulation, events, memory)
