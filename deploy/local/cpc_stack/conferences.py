"""The state of conferences, read from the event log: for the people who run the system.

`./dev conferences` lists them; with a conference id it shows one: its history, its reports and its messages.
It reads what the services published, never their databases: the topics from their beginning (less what
the simulations published: their conferences share ids from one run to the next), or one simulation's
record kept beside its report (`--run latest`, or the run's name), readable when the services are stopped. Only ids, times, places and
states are shown: the events carry no names or contact details.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaConnectionError
from rich.console import Console
from rich.table import Table

from cpc_stack import eventlog
from cpc_stack.eventlog import LONDON, NEVER, Conference
from cpc_stack.paths import RUN

REPORTS = RUN / "reports"


def simulation_records(reports: Path = REPORTS) -> list[Path]:
    """The simulations' records of events, oldest first."""
    return sorted(reports.glob("*.events.jsonl"), key=lambda path: path.stat().st_mtime) if reports.is_dir() else []


def simulation_record(run: str) -> Path:
    """`latest`: the newest simulation's record; else the one of that run (its database prefix, as the
    simulation prints it, or its report's name)."""
    records = simulation_records()
    if run == "latest":
        if not records:
            raise LookupError("no simulation has run on this stack yet: `./dev simulate` runs one")
        return records[-1]
    for record in reversed(records):
        name = record.name.removesuffix(".events.jsonl")
        figures = record.with_name(f"{name}.figures.json")
        if name == run or (figures.exists() and json.loads(figures.read_text()).get("database_prefix") == run):
            return record
    raise LookupError(f"no simulation {run} on this stack (`--run latest` reads the newest)")


def load(run: str, kafka: str) -> tuple[str, eventlog.EventLog]:
    """Where the events came from, and what they say."""
    if run == "local":
        # While a simulation runs, its services alone publish: what was published then is the simulation's.
        simulations = [period for record in simulation_records() if (period := eventlog.published_between(record))]
        return f"the topics at {kafka}", eventlog.fold(asyncio.run(eventlog.read_topics(kafka, leave_out=simulations)))
    record = simulation_record(run)
    return record.name.removesuffix(".events.jsonl"), eventlog.fold(eventlog.load(record))


def listing(log: eventlog.EventLog, statuses: set[str] | None = None) -> list[Conference]:
    """Every conference scheduling published about (in the given states), soonest first."""
    found = [c for c in log.conferences.values() if not statuses or c.status in statuses]
    return sorted(found, key=lambda c: (c.starts_at or NEVER, c.id))


def messages_by_recipient(conference: Conference) -> dict[str, list[str]]:
    by_recipient: dict[str, list[str]] = defaultdict(list)
    for message in sorted(conference.messages.values(),
                          key=lambda m: (eventlog.parse_time(m.at) or NEVER, m.notification_id)):
        by_recipient[message.recipient_id].append(f"{message.purpose} {message.status} by {message.channel}")
    return dict(by_recipient)


# What the command prints -------------------------------------------------------------------------


def _when(value: datetime | str | None) -> str:
    at = eventlog.parse_time(value) if isinstance(value, str) else value
    return at.astimezone(LONDON).strftime("%a %d %b %Y %H:%M") if at else "-"


def _counts(counter: Counter) -> str:
    return ", ".join(f"{n} {state}" for state, n in sorted(counter.items())) or "-"


def show(console: Console, kafka: str, run: str, conference_id: str | None, statuses: set[str], limit: int) -> bool:
    """Print the conferences (or one); False, with the reason printed, when there is nothing to show."""
    try:
        source, log = load(run, kafka)
    except LookupError as missing:
        console.print(f"[red]{missing.args[0]}[/red]")
        return False
    except KafkaConnectionError:
        console.print(f"[red]Kafka at {kafka} does not answer: `./dev stack` starts it[/red]")
        return False
    if conference_id:
        if conference_id not in log.conferences:
            console.print(f"[red]no conference {conference_id} in {source}[/red]")
            return False
        _print_one(console, source, log.conferences[conference_id])
    else:
        _print_list(console, source, listing(log, statuses), limit)
    return True


def _on_time(conference: Conference, *, long: bool = False) -> str:
    on_time = conference.on_time(LONDON)
    if on_time is None:
        if not long:
            return "-"
        return "not held" if conference.status in ("cancelled", "informal_review_held") else "not yet placed"
    if on_time:
        return "on time" if long else "yes"
    reason = conference.late_reason or "reason unknown"
    return f"late: {reason}" if long else f"[red]no[/red] ({reason})"


def _print_list(console: Console, source: str, found: list[Conference], limit: int) -> None:
    states = Counter(c.status for c in found)
    late = [c for c in found if c.on_time(LONDON) is False]
    console.print(f"{len(found)} conferences in {source}: {_counts(states)}; {len(late)} past their deadline")
    table = Table("conference", "kind", "status", "starts", "place", "chair", "deadline", "on time", "reports",
                  "messages", box=None, header_style="bold")
    for conference in found[:limit]:
        table.add_row(conference.id, conference.conference_type or "-", conference.status,
                      _when(conference.starts_at), conference.place, conference.get("chair_id") or "-",
                      conference.statutory_deadline or "-", _on_time(conference),
                      _counts(Counter(r.state for r in conference.reports.values())),
                      _counts(Counter(m.status for m in conference.messages.values())))
    console.print(table)
    if len(found) > limit:
        console.print(f"... and {len(found) - limit} more (--limit, --status)")


def _print_one(console: Console, source: str, conference: Conference) -> None:
    console.print(f"[bold]{conference.id}[/bold] ({source}): {conference.conference_type} conference, "
                  f"{conference.status}, version {conference.get('version') or '-'}, "
                  f"case {conference.get('case_id') or '-'}")
    console.print(f"  {_when(conference.starts_at)} to {_when(conference.ends_at)[-5:]}, {conference.place} "
                  f"({conference.get('attendance_mode') or '-'}), chair {conference.get('chair_id') or '-'}; "
                  f"statutory deadline {conference.statutory_deadline}, {_on_time(conference, long=True)}")
    console.print("History:")
    for at, what in conference.history:
        console.print(f"  {_when(at)}  {what}")
    console.print("Reports:")
    for report in sorted(conference.reports.values(), key=lambda r: r.agency):
        console.print(f"  {report.agency:<20} {report.state:<10} due {_when(report.due_at)}")
    if not conference.reports:
        console.print("  none requested")
    console.print("Messages, by recipient:")
    messages: dict[str, Any] = messages_by_recipient(conference)
    for recipient, lines in messages.items():
        console.print(f"  {recipient:<24} {'; '.join(lines)}")
    if not messages:
        console.print("  none")
