"""`cpc`: the command line for the people who run the system locally (`./dev <command>` calls it)."""

from __future__ import annotations

import asyncio
from datetime import date
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cpc_stack import infra, services


class Council(StrEnum):
    gloucestershire = "gloucestershire"
    essex = "essex"


app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
console = Console()


@app.command()
def up() -> None:
    """Start Kafka, FerretDB, the mail server and the four services."""
    services.start(infra.up())


@app.command()
def down() -> None:
    """Stop the services and the stack."""
    services.stop()
    infra.down()


@app.command()
def stack() -> None:
    """Start only Kafka, FerretDB and the mail server."""
    infra.up()


@app.command()
def demo(requests: Annotated[int, typer.Option(help="how many initial conference requests")] = 5) -> None:
    """Start everything and follow a handful of conference requests through the four services."""
    from cpc_stack.demo import run_demo

    endpoints = infra.up()
    services.start(endpoints)
    run_demo(endpoints, requests)


@app.command()
def simulate(
    profile: Annotated[Council, typer.Option(help="the council profile: Gloucestershire 2022 or Essex 2020")] = (
        Council.gloucestershire),
    days: Annotated[int, typer.Option(min=1, max=366, help="simulated days")] = 30,
    seed: Annotated[int, typer.Option(help="the same seed, the same workload")] = 2022,
    speed: Annotated[float, typer.Option(min=0.5, help="simulated hours per real second")] = 10.0,
    start: Annotated[str | None, typer.Option(help="first day, YYYY-MM-DD (default: the scenario's, else the profile's)")
                     ] = None,
    scenario: Annotated[str | None, typer.Option(help="pressure: chairs-off-sick, surge, office-closed, christmas, "
                                                      "easter, all-virtual, shortfall, long-sickness, overload, or a "
                                                      "YAML file (profiles/scenarios/)")
                        ] = None,
) -> None:
    """Run a council's period through the whole system on a simulated clock, then write the report."""
    from cpc_stack.simulation.run import simulate_and_report

    _check_scenarios([scenario] if scenario else [], profile.value)
    simulate_and_report(profile.value, days, seed, speed, date.fromisoformat(start) if start else None, console,
                        progress_factory=lambda: Progress(TextColumn("{task.description}"), BarColumn(),
                                                          MofNCompleteColumn(), TimeElapsedColumn(), console=console),
                        scenario=scenario)


@app.command()
def status() -> None:
    """What is running, and where."""
    from cpc_stack import processes

    endpoints = infra.endpoints()
    console.print(f"Kafka {endpoints.kafka} · store {endpoints.mongodb} · mail {endpoints.maildir}")
    for name in processes.running():
        ready = services.is_ready(name) if name.partition("-")[0] in services.SERVICES else None
        console.print(f"  {name:<16} {'ready' if ready else 'running' if ready is None else 'not ready'}")


@app.command("family-links")
def family_links(count: Annotated[int, typer.Option(help="how many links, newest first")] = 5) -> None:
    """The links to the family's form in the newest invitations in the local Maildir, as a parent would click them."""
    from cpc_stack.mail import Mailbox

    for mail, link in Mailbox(infra.endpoints().maildir).family_links(count):
        console.print(f"{mail['X-CPC-Conference']}  {mail['To']}\n  {link}", soft_wrap=True)


def _check_scenarios(names: list[str], profile_name: str) -> None:
    """A scenario that cannot be read, or names what the council does not have, is refused before anything starts."""
    from cpc_shared.profile import load_profile

    from cpc_stack.paths import REPO
    from cpc_stack.simulation.runner import PROFILES
    from cpc_stack.simulation.scenarios import load_scenario

    path, default_start = PROFILES[profile_name]
    for name in names:
        try:
            load_scenario(name, None, default_start).apply_to_profile(load_profile(REPO / path))
        except (ValueError, KeyError, TypeError) as error:
            raise typer.BadParameter(str(error), param_hint="--scenario") from None


@app.command("plan-bench")
def plan_bench(
    scenario: Annotated[list[str] | None, typer.Option(help="a scenario's name or file; again for more "
                                                           "(default: none, chairs-off-sick, surge, office-closed, shortfall, "
                                                           "long-sickness, overload)")
                        ] = None,
    profile: Annotated[Council, typer.Option(help="the council profile")] = Council.gloucestershire,
    days: Annotated[int, typer.Option(min=1, max=120, help="days of requests")] = 30,
    seed: Annotated[int, typer.Option(help="the same seed, the same workload")] = 2022,
    start: Annotated[str | None, typer.Option(help="first day (default: the scenario's, else the profile's)")] = None,
    frozen_days: Annotated[int, typer.Option(min=1, help="conferences fewer working days away than this never move")
                           ] = 5,
    max_moves: Annotated[int, typer.Option(min=0, help="conferences already planned that one window may move")] = 8,
    time_limit: Annotated[float, typer.Option(min=0.1, help="the solver's own (deterministic) seconds for one window; "
                                                              "four times as many on the clock at most")] = 5.0,
    per_arrival: Annotated[bool, typer.Option(help="the solver plans each request as it arrives, as the scheduling "
                                                   "service does (default: the day's requests together at 17:00)")
                           ] = False,
) -> None:
    """Today's greedy planner against the CP-SAT window planner on the same seeded workload, without Kafka."""
    from rich.table import Table

    from cpc_stack.planbench import bench as run_plan_bench

    names = scenario or ["none", "chairs-off-sick", "surge", "office-closed", "shortfall", "long-sickness", "overload"]

    _check_scenarios(names, profile.value)
    headings = ("scenario", "initial within 15 wd", "reviews on time", "moved", "reports' time shortened",
                "family km", "chair load stdev", "solver s/window (mean / max)")
    rows = [headings, tuple("---" for _ in headings)]
    for chosen, greedy, solver in run_plan_bench(profile.value, names, days, seed,
                                                 date.fromisoformat(start) if start else None,
                                                 frozen_days=frozen_days, max_moves=max_moves, time_limit=time_limit,
                                                 per_arrival=per_arrival):
        table = Table(title=f"{chosen.name}: {days} days from {chosen.start} (seed {seed}). {chosen.description}",
                      title_justify="left")
        table.add_column("")
        table.add_column("greedy", justify="right")
        table.add_column("solver", justify="right")
        by_greedy, by_solver = greedy.figures(), solver.figures()
        for key, value in by_greedy.items():
            table.add_row(key, str(value), str(by_solver[key]))
        console.print(table)
        rows.append((chosen.name, *(f"{by_greedy[key]} → {by_solver[key]}" for key in (
            "initial within 15 working days", "reviews on time", "conferences moved", "reports' usual time shortened",
            "mean family travel (km)", "chair load spread (stdev)")),
            str(by_solver["solver time per window (s), mean / max"])))
    console.print(f"\nGreedy → solver, {days} days, seed {seed} (a Markdown table):")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    console.print("England 2024-25: 81.4% of initial conferences within 15 working days.")


@app.command()
def bench(
    profile: Annotated[Council, typer.Option(help="the council profile")] = Council.gloucestershire,
    days: Annotated[int, typer.Option(min=1, max=366, help="simulated days")] = 30,
    speed: Annotated[float, typer.Option(min=0.5, help="simulated hours per real second (high: as fast as it goes)")
                     ] = 1000.0,
    rate: Annotated[float, typer.Option(min=0, help="requests a second in the latency phase (0: skip it)")] = 20.0,
    seconds: Annotated[float, typer.Option(min=1, help="how long the steady latency phase lasts")] = 15.0,
    burst: Annotated[int, typer.Option(min=1, help="requests published at once after it")] = 300,
) -> None:
    """Measure a simulated period as fast as the system takes it, beside the store and Kafka alone, and each
    conference's cost beside a period a tenth as long; then latency from request to scheduled and to the family's
    invitation, at a steady rate and at full speed."""
    from cpc_stack.bench import bench as run_bench

    run_bench(console, profile.value, days, speed,
              progress_factory=lambda: Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                                TimeElapsedColumn(), console=console),
              latency_rate=rate, latency_seconds=seconds, burst=burst)


@app.command()
def chaos(
    minutes: Annotated[float, typer.Option(min=0.5, help="minutes of load")] = 5.0,
    rate: Annotated[float, typer.Option(min=0.05, help="conference requests a second")] = 0.5,
    seed: Annotated[int, typer.Option(help="the same seed, the same faults at the same moments")] = 15,
    kills: Annotated[int, typer.Option(min=0, help="services killed (SIGKILL) and restarted, at random moments")] = 8,
) -> None:
    """Kill services, restart Kafka and the store under a steady load; then check nothing was lost or doubled."""
    from cpc_stack.chaos import Plan, run_chaos

    result = run_chaos(Plan(minutes, rate, seed, kills), lambda line: console.print(line, soft_wrap=True, highlight=False))
    if result.failures:
        raise typer.Exit(1)


@app.command("conferences")
def show_conferences(
    conference_id: Annotated[str | None, typer.Argument(help="one conference: its history, reports and messages")] = None,
    run: Annotated[str, typer.Option(help="'local' (the topics, less the simulations' events), 'latest' (the newest simulation's "
                                          "record) or a simulation such as cpc_sim_20261123174517")] = "local",
    status: Annotated[list[str] | None, typer.Option(help="only these states, e.g. scheduled, held, cancelled")] = None,
    limit: Annotated[int, typer.Option(min=1, help="at most this many rows, soonest first")] = 50,
) -> None:
    """The state of conferences, from the events the services published: when, where, on time, reports and messages."""
    from cpc_stack.conferences import show

    if not show(console, infra.endpoints().kafka, run, conference_id, set(status or ()), limit):
        raise typer.Exit(1)


@app.command("replay-dlq")
def replay_dlq(topic: Annotated[str, typer.Argument(help="e.g. casemgmt.events")]) -> None:
    """Send the dead letters of a topic back to it (after a fix), once each."""
    from cpc_stack.deadletters import replay

    count = asyncio.run(replay(infra.endpoints().kafka, topic))
    console.print(f"replayed {count} dead letters to {topic}")


@app.command()
def asyncapi() -> None:
    """Write the AsyncAPI event catalogues: docs/asyncapi/catalogue.json (every event) and partners.json (the
    public partner topics), and a schema snapshot for each new partner event version."""
    from cpc_stack.docs import PARTNERS_PATH, write_catalogue

    console.print(f"wrote {write_catalogue()} and {PARTNERS_PATH}")


@app.command("partner-docs")
def partner_docs() -> None:
    """Render the partner catalogue as docs/asyncapi/partners.html (AsyncAPI's generator and HTML template)."""
    from cpc_stack.docs import PARTNERS_PATH
    from cpc_stack.node import render_html

    console.print(f"wrote {render_html(PARTNERS_PATH, PARTNERS_PATH.parent)}")


@app.command()
def token(
    role: Annotated[str, typer.Option(help="chair, coordinator, manager or agency")] = "coordinator",
    subject: str = "local-user",
    chair_id: Annotated[str | None, typer.Option("--chair-id")] = None,
    agency: str | None = None,
) -> None:
    """Print a bearer token for the local APIs."""
    from cpc_shared.http import issue_token

    print(issue_token(infra.staff_token_secret(), subject=subject, role=role, chair_id=chair_id, agency=agency))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
