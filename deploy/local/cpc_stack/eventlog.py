"""The event log: every event the topics carried, and what it says of each conference, room booking, report
and message. The tooling reads this (or the services' APIs), never a service's own database.

An event here is a dict `{"topic", "type", "key", "id", "time", "data"}`: as `observe.Watcher` collects them
(`as_events`), as a simulation keeps them beside its report (`.events.jsonl`), or as `read_topics` reads
the topics from their beginning. Each service's events about one conference share its key, and so one
partition: in the log they keep the order they were published in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaConsumer
from cpc_shared.contracts import Topics
from cpc_shared.contracts.catalogue import CATALOGUE
from pydantic import ValidationError

from cpc_stack.observe import Seen, decoded, end_offsets

LONDON = ZoneInfo("Europe/London")
ARRANGED = ("cpc.ConferenceScheduled.v1", "cpc.ConferenceRescheduled.v1")


def as_events(seen: Iterable[Seen]) -> list[dict[str, Any]]:
    return [{"topic": s.topic, "type": s.type, "key": s.key, "id": s.headers.get("ce_id"),
             "time": s.headers.get("ce_time"), "published": s.published, "data": s.data} for s in seen]


def write(events: list[dict[str, Any]], path: Path) -> None:
    path.write_text("\n".join(json.dumps(event) for event in events))


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def published_between(path: Path) -> tuple[int, int] | None:
    """When the events of a record were published (Kafka's milliseconds), from its first and last lines."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    times = [json.loads(line).get("published") for line in (lines[:1] + lines[-1:])]
    return (min(times), max(times)) if times and None not in times else None


async def read_topics(bootstrap: str, topics: Iterable[str] = Topics.ALL,
                      leave_out: Iterable[tuple[int, int]] = ()) -> list[dict[str, Any]]:
    """Every record the topics hold now, from their beginning, in each partition's order; but those
    published within the `leave_out` periods (Kafka's milliseconds, both ends included)."""
    periods = list(leave_out)
    ends = {tp: end for tp, end in (await end_offsets(bootstrap, list(topics))).items() if end > 0}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    seen: list[Seen] = []
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        left = dict(ends)
        while left:
            batch = await consumer.getmany(*left, timeout_ms=1000)
            seen.extend(decoded(r) for records in batch.values() for r in records)
            for partition in list(left):
                if await consumer.position(partition) >= left[partition]:
                    del left[partition]
    finally:
        await consumer.stop()
    return as_events(s for s in seen if not any(first <= (s.published or 0) <= last for first, last in periods))


@dataclass
class Report:
    report_id: str
    agency: str
    due_at: datetime
    status: str = "requested"  # requested, submitted or withdrawn
    late: bool | None = None  # when submitted

    @property
    def state(self) -> str:
        """requested (not in yet), on time, late, or withdrawn (no longer needed)."""
        if self.status == "submitted":
            return "late" if self.late else "on time"
        return self.status


@dataclass
class Message:
    notification_id: str
    recipient_id: str
    purpose: str
    channel: str
    status: str  # sent or failed
    at: str | None


@dataclass
class Booking:
    booking_id: str
    conference_id: str
    office_id: str
    room_id: str
    starts_at: datetime
    ends_at: datetime


@dataclass
class Conference:
    """One conference as its events tell it; `status` as scheduling would have it once it had handled them."""

    id: str
    known: bool = False  # scheduling published about it (the other services' events may be read before)
    arrangement: dict[str, Any] | None = None  # the newest ConferenceScheduled / Rescheduled's data
    conference_type: str | None = None
    statutory_deadline: str | None = None
    late_reason: str | None = None
    planning: str = "requested"  # awaiting_room, moving, scheduled or unscheduled
    room_request_id: str | None = None
    refused_first: set[str] = field(default_factory=set)  # room requests whose refusal was read before them
    cancel_reason: str | None = None
    held_on: str | None = None
    outcome: dict[str, Any] | None = None
    history: list[tuple[str | None, str]] = field(default_factory=list)  # (ISO time or None, what happened)
    reports: dict[str, Report] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.held_on:  # the outcome makes it held, whatever it was
            return "held"
        if self.cancel_reason == "informal_review_held":
            return "informal_review_held"
        if self.cancel_reason:
            return "cancelled"
        return self.planning

    def get(self, name: str) -> Any:
        """A field of the newest arrangements."""
        return (self.arrangement or {}).get(name)

    @property
    def starts_at(self) -> datetime | None:
        return datetime.fromisoformat(self.get("starts_at")) if self.get("starts_at") else None

    @property
    def ends_at(self) -> datetime | None:
        return datetime.fromisoformat(self.get("ends_at")) if self.get("ends_at") else None

    @property
    def place(self) -> str:
        if self.get("attendance_mode") == "virtual":
            return "online"
        return self.get("room_id") or self.get("office_id") or "-"

    def on_time(self, zone: Any) -> bool | None:
        """By the day it was held (the outcome's), else the day it is booked for."""
        starts = self.starts_at
        if starts is None or self.statutory_deadline is None or self.status in ("cancelled", "informal_review_held"):
            return None
        held = date.fromisoformat(self.held_on) if self.held_on else starts.astimezone(zone).date()
        return held <= date.fromisoformat(self.statutory_deadline)


@dataclass
class EventLog:
    conferences: dict[str, Conference] = field(default_factory=dict)  # those scheduling published about
    bookings: dict[str, Booking] = field(default_factory=dict)  # every room held, by booking id

    expired: set[str] = field(default_factory=set)  # holds that ran out before scheduling confirmed them

    def booked(self) -> list[Booking]:
        """The rooms booked at the end: each the booking of a conference's newest arrangements (scheduling
        confirms it, and rooms then releases the conference's other holds), unless the conference was cancelled.
        A hold that ran out is booked again when confirmed if its room is still free; rooms publishes nothing
        when it is not, so one that overlaps another booking of its room is taken to have lost it."""
        found = [self.bookings[c.get("booking_id")] for c in self.conferences.values()
                 if c.get("booking_id") in self.bookings and c.status not in ("cancelled", "informal_review_held")]
        return [b for b in found if b.booking_id not in self.expired or not any(
            other is not b and other.room_id == b.room_id and other.starts_at < b.ends_at and b.starts_at < other.ends_at
            for other in found)]


def fold(events: Iterable[dict[str, Any]]) -> EventLog:
    """What the events say, each counted once (the outboxes publish at least once)."""
    log, seen_ids = EventLog(), set()
    every: dict[str, Conference] = {}
    requests: dict[str, tuple[str | None, str]] = {}
    for event in events:
        if event.get("id"):
            if event["id"] in seen_ids:
                continue
            seen_ids.add(event["id"])
        data, kind, topic, at = event.get("data"), event["type"], event["topic"], event.get("time")
        if not isinstance(data, dict) or topic not in Topics.ALL:
            continue  # a dead letter
        if topic == Topics.CASEMGMT and not _valid_inbound(kind, data):
            continue  # the case-management system's bad input: the services dead-lettered it, and so does this
        if kind == "casemgmt.ConferenceRequested.v1":
            requests[data.get("request_id", "")] = (at, f"requested ({data.get('conference_type')})")
            continue
        if "conference_id" not in data:
            continue
        conference = every.setdefault(data["conference_id"], Conference(data["conference_id"]))
        if topic == Topics.CASEMGMT:
            if kind == "casemgmt.ConferenceOutcomeRecorded.v1":
                conference.held_on, conference.outcome = data["held_on"], data
                conference.history.append((at, f"outcome recorded: held on {data['held_on']}, {data.get('outcome')}"
                                               + ("" if data.get("quorate", True) else ", inquorate")))
        elif topic == Topics.CONFERENCES:
            conference.known = True
            _conference_event(conference, kind, data, at)
        elif topic == Topics.ROOMS:
            _room_event(log, conference, kind, data, at)
        elif topic == Topics.REPORTS and "report_id" in data:
            _report_event(conference, kind, data)
        elif topic == Topics.NOTIFICATIONS and kind in ("cpc.NotificationSent.v1", "cpc.NotificationFailed.v1"):
            known = conference.messages.get(data["notification_id"])
            if known is None or known.status != "sent":  # sent is for good
                conference.messages[data["notification_id"]] = Message(
                    data["notification_id"], data["recipient_id"], data["purpose"], data["channel"],
                    "sent" if kind == "cpc.NotificationSent.v1" else "failed", at)
    for conference_id, conference in every.items():
        if not conference.known:
            continue
        if conference.get("request_id") in requests:
            conference.history.append(requests[conference.get("request_id")])
        conference.history.sort(key=lambda step: parse_time(step[0]) or NEVER)  # stable: same time, same order
        log.conferences[conference_id] = conference
    return log


def _valid_inbound(kind: str, data: dict[str, Any]) -> bool:
    model = CATALOGUE.get(kind)
    if model is None:
        return False
    try:
        model.model_validate(data)
    except ValidationError:
        return False
    return True


NEVER = datetime.max.replace(tzinfo=UTC)


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _when(value: str | None) -> str:
    at = parse_time(value)
    return at.astimezone(LONDON).strftime("%a %d %b %Y %H:%M") if at else "-"


def _conference_event(conference: Conference, kind: str, data: dict[str, Any], at: str | None) -> None:
    if kind in ARRANGED:
        if conference.arrangement is None or data.get("version", 0) >= conference.arrangement.get("version", 0):
            conference.arrangement = data
        conference.conference_type = data["conference_type"]
        conference.statutory_deadline = data["statutory_deadline"]
        conference.planning = "scheduled"
        place = "online" if data["attendance_mode"] == "virtual" else data.get("room_id") or data.get("office_id")
        what = "scheduled" if kind == "cpc.ConferenceScheduled.v1" else f"rescheduled (version {data.get('version')})"
        conference.history.append((at, f"{what}: {_when(data['starts_at'])}, {place}, chair {data['chair_id']}"
                                       + ("" if data.get("within_timescale", True) else ", after its deadline")))
    elif kind == "cpc.RoomRequested.v1":
        # A conference already scheduled keeps its date while a room is sought for another (a move); unless rooms'
        # refusal was read first (the topics are read side by side).
        if data["room_request_id"] in conference.refused_first:
            conference.planning = "scheduled" if conference.arrangement else conference.planning
        else:
            conference.planning = "moving" if conference.arrangement else "awaiting_room"
        conference.room_request_id = data["room_request_id"]
        conference.history.append((at, f"room requested ({len(data.get('candidates', []))} times offered)"))
    elif kind == "cpc.ConferenceDeadlineAtRisk.v1":
        conference.conference_type = conference.conference_type or data.get("conference_type")
        conference.statutory_deadline = data["statutory_deadline"]
        conference.late_reason = data["reason"]
        if conference.planning != "scheduled":  # else it was scheduled after its deadline, and stays scheduled
            conference.planning = "unscheduled"
        conference.history.append((at, f"deadline {data['statutory_deadline']} at risk: {data['reason']}"))
    elif kind == "cpc.ConferenceCancelled.v1":
        conference.cancel_reason = data["reason"]
        conference.history.append((at, f"cancelled: {data['reason']}"))
    elif kind == "cpc.QuorumAtRisk.v1":
        conference.history.append((at, f"quorum at risk: {data['reason']}"))
    elif kind == "cpc.InterpreterRequested.v1":
        conference.history.append((at, f"interpreter requested ({data['language']})"))
    elif kind in ("cpc.ConferenceTaskDue.v1", "cpc.ConferenceTaskOverdue.v1"):
        conference.history.append((at, f"task {data['task']} {'due' if 'Due' in kind else 'overdue'} "
                                       f"({data['due_on']})"))


def _room_event(log: EventLog, conference: Conference, kind: str, data: dict[str, Any], at: str | None) -> None:
    if kind == "cpc.RoomBooked.v1":
        log.bookings[data["booking_id"]] = Booking(
            data["booking_id"], data["conference_id"], data["office_id"], data["room_id"],
            datetime.fromisoformat(data["starts_at"]), datetime.fromisoformat(data["ends_at"]))
        conference.history.append((at, f"room {data['room_id']} held for {_when(data['starts_at'])}"))
    elif kind == "cpc.RoomUnavailable.v1":
        if conference.planning == "moving" and data["room_request_id"] == conference.room_request_id:
            conference.planning = "scheduled"  # no room for the move: the conference stays as it was
        elif data["room_request_id"] != conference.room_request_id:
            conference.refused_first.add(data["room_request_id"])
        conference.history.append((at, f"no room: {data['reason']}"))
    elif kind == "cpc.RoomReleased.v1":
        if data.get("reason") == "hold_expired":
            log.expired.add(data["booking_id"])
        conference.history.append((at, f"room {data['room_id']} released ({data.get('reason')})"))


def _report_event(conference: Conference, kind: str, data: dict[str, Any]) -> None:
    report = conference.reports.get(data["report_id"])
    if report is None:
        if "due_at" not in data:
            return
        report = conference.reports[data["report_id"]] = Report(
            data["report_id"], data["agency"], datetime.fromisoformat(data["due_at"]))
    if data.get("due_at"):
        report.due_at = datetime.fromisoformat(data["due_at"])
    if kind == "cpc.ReportRequested.v1":
        if report.status == "withdrawn":  # asked for again; a report already in stays in, for the new time
            report.status = "requested"
    elif kind == "cpc.ReportSubmitted.v1":
        report.status, report.late = "submitted", data["late"]
    elif kind == "cpc.ReportWithdrawn.v1":
        report.status = "withdrawn"
