"""The state of conferences, read from the services' own stores: for the people who run the system.

`./dev conferences` lists them (the local services' databases, or a simulation's); with a conference id it
shows one: its history, its reports and its messages. Only ids, times, places and states are shown: names
and contact details stay sealed in notifications' store.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from cpc_shared.settings import ServiceSettings
from pymongo import AsyncMongoClient
from pymongo.errors import ServerSelectionTimeoutError
from rich.console import Console
from rich.table import Table

LOCAL_PREFIX = ServiceSettings.model_fields["database_prefix"].default  # the services `./dev up` starts
LONDON = ZoneInfo("Europe/London")


@dataclass
class Conference:
    """One conference as the operations team sees it: scheduling's record, with reports' and messages' counts."""

    record: dict[str, Any]
    reports: Counter = field(default_factory=Counter)  # status -> count
    messages: Counter = field(default_factory=Counter)  # status -> count

    @property
    def id(self) -> str:
        return self.record["_id"]

    @property
    def on_time(self) -> bool | None:
        """By the day it was held (the outcome's), else the day it is booked for."""
        starts, deadline = self.record.get("starts_at"), self.record.get("statutory_deadline")
        if starts is None or deadline is None or self.record.get("status") == "cancelled":
            return None
        held = date.fromisoformat(self.record["held_on"]) if self.record.get("held_on") else starts.astimezone(LONDON).date()
        return held <= date.fromisoformat(deadline)

    @property
    def place(self) -> str:
        if self.record.get("attendance_mode") == "virtual":
            return "online"
        return self.record.get("room_id") or self.record.get("office_id") or "-"


def report_state(report: dict[str, Any]) -> str:
    """requested (not in yet), on time, late, or withdrawn (the conference was cancelled)."""
    if report["status"] == "submitted":
        return "late" if report.get("late") else "on time"
    return report["status"]


async def resolve_prefix(client: AsyncMongoClient, run: str) -> str:
    """`local`: the services `./dev up` starts; `latest`: the newest simulation; else a database prefix."""
    if run == "local":
        return LOCAL_PREFIX
    names = await client.list_database_names()
    if run == "latest":
        runs = sorted({name.rsplit("_", 1)[0] for name in names if name.startswith("cpc_sim_")})
        if not runs:
            raise LookupError("no simulation has run on this stack yet: `./dev simulate` runs one")
        return runs[-1]
    if f"{run}_scheduling" not in names:
        raise LookupError(f"no databases {run}_* on this stack")
    return run


async def conferences(client: AsyncMongoClient, prefix: str, statuses: set[str] | None = None) -> list[Conference]:
    """Every conference scheduling knows (in the given states), soonest first, with reports and messages counted."""
    query = {"status": {"$in": sorted(statuses)}} if statuses else {}
    records = await client[f"{prefix}_scheduling"]["conferences"].find(
        query, {"outbox": 0, "history": 0, "invitees": 0, "candidates": 0}).to_list()
    found = {record["_id"]: Conference(record) for record in records}
    async for report in client[f"{prefix}_reports"]["reports"].find({}, {"conference_id": 1, "status": 1, "late": 1}):
        if report["conference_id"] in found:
            found[report["conference_id"]].reports[report_state(report)] += 1
    async for message in client[f"{prefix}_notifications"]["messages"].find({}, {"conference_id": 1, "status": 1}):
        if message["conference_id"] in found:
            found[message["conference_id"]].messages[message["status"]] += 1
    never = datetime.max.replace(tzinfo=LONDON)
    return sorted(found.values(), key=lambda c: (c.record.get("starts_at") or never, c.id))


async def one(client: AsyncMongoClient, prefix: str, conference_id: str) -> dict[str, Any]:
    """One conference: scheduling's record and history, each report, each message (no personal data)."""
    record = await client[f"{prefix}_scheduling"]["conferences"].find_one({"_id": conference_id}, {"outbox": 0})
    if record is None:
        raise LookupError(f"no conference {conference_id} in {prefix}_scheduling")
    reports = await client[f"{prefix}_reports"]["reports"].find(
        {"conference_id": conference_id}, {"agency": 1, "status": 1, "due_at": 1, "late": 1}).to_list()
    messages = await client[f"{prefix}_notifications"]["messages"].find(
        {"conference_id": conference_id}, {"recipient_id": 1, "purpose": 1, "channel": 1, "status": 1, "sent_at": 1}
    ).to_list()
    by_recipient: dict[str, list[str]] = defaultdict(list)
    never = datetime.max.replace(tzinfo=LONDON)
    for message in sorted(messages, key=lambda m: (m.get("sent_at") or never, m["_id"])):
        by_recipient[message["recipient_id"]].append(
            f"{message['purpose']} {message['status']}" + (f" by {message['channel']}" if message.get("channel") else ""))
    return {"conference": Conference(record), "history": record.get("history", []),
            "reports": sorted(reports, key=lambda r: r["agency"]), "messages": dict(by_recipient)}


# What the command prints -------------------------------------------------------------------------


def _when(value: datetime | None) -> str:
    return value.astimezone(LONDON).strftime("%a %d %b %Y %H:%M") if value else "-"


def _counts(counter: Counter) -> str:
    return ", ".join(f"{n} {state}" for state, n in sorted(counter.items())) or "-"


async def _gather(mongodb: str, run: str, conference_id: str | None, statuses: set[str]) -> tuple[str, Any]:
    client: AsyncMongoClient = AsyncMongoClient(mongodb, tz_aware=True, serverSelectionTimeoutMS=3000)
    try:
        prefix = await resolve_prefix(client, run)
        if conference_id:
            return prefix, await one(client, prefix, conference_id)
        return prefix, await conferences(client, prefix, statuses)
    finally:
        await client.close()


def show(console: Console, mongodb: str, run: str, conference_id: str | None, statuses: set[str], limit: int) -> bool:
    """Print the conferences (or one); False, with the reason printed, when there is nothing to show."""
    try:
        prefix, found = asyncio.run(_gather(mongodb, run, conference_id, statuses))
    except LookupError as missing:
        console.print(f"[red]{missing.args[0]}[/red]")
        return False
    except ServerSelectionTimeoutError:
        console.print(f"[red]the store at {mongodb} does not answer: `./dev stack` starts it[/red]")
        return False
    if conference_id:
        _print_one(console, prefix, found)
    else:
        _print_list(console, prefix, found, limit)
    return True


def _print_list(console: Console, prefix: str, found: list[Conference], limit: int) -> None:
    states = Counter(c.record.get("status") for c in found)
    late = [c for c in found if c.on_time is False]
    console.print(f"{len(found)} conferences in {prefix}_*: {_counts(states)}; {len(late)} past their deadline")
    table = Table("conference", "kind", "status", "starts", "place", "chair", "deadline", "on time", "reports",
                  "messages", box=None, header_style="bold")
    for conference in found[:limit]:
        record = conference.record
        table.add_row(conference.id, record.get("conference_type", "-"), record.get("status", "-"),
                      _when(record.get("starts_at")), conference.place, record.get("chair_id") or "-",
                      record.get("statutory_deadline") or "-",
                      {True: "yes", False: f"[red]no[/red] ({record.get('late_reason') or 'reason unknown'})",
                       None: "-"}[conference.on_time],
                      _counts(conference.reports), _counts(conference.messages))
    console.print(table)
    if len(found) > limit:
        console.print(f"... and {len(found) - limit} more (--limit, --status)")


def _print_one(console: Console, prefix: str, found: dict[str, Any]) -> None:
    conference: Conference = found["conference"]
    record = conference.record
    console.print(f"[bold]{conference.id}[/bold] ({prefix}_*): {record.get('conference_type')} conference, "
                  f"{record.get('status')}, version {record.get('version', '-')}, case {record.get('case_id')}")
    console.print(f"  {_when(record.get('starts_at'))} to {_when(record.get('ends_at'))[-5:]}, {conference.place} "
                  f"({record.get('attendance_mode', '-')}), chair {record.get('chair_id') or '-'}; "
                  f"statutory deadline {record.get('statutory_deadline')}, "
                  + {True: "on time", False: f"late: {record.get('late_reason') or 'reason unknown'}",
                     None: "not held" if record.get("status") == "cancelled" else "not yet placed"}[conference.on_time])
    console.print("History:")
    for step in found["history"]:
        console.print(f"  {_when(step.get('at'))}  {step.get('what')}")
    console.print("Reports:")
    for report in found["reports"]:
        console.print(f"  {report['agency']:<20} {report_state(report):<10} due {_when(report.get('due_at'))}")
    if not found["reports"]:
        console.print("  none requested")
    console.print("Messages, by recipient:")
    for recipient, messages in found["messages"].items():
        console.print(f"  {recipient:<24} {'; '.join(messages)}")
    if not found["messages"]:
        console.print("  none")
