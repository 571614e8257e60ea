"""`cpc chaos`: a steady load of conference requests while the services are killed (SIGKILL) at random
moments and restarted, Kafka is restarted once and the store once; then, from the topics, the figures that
say nothing was lost or doubled, and how long each fault took to recover from.

The invariants, each counted from what the topics carried (the tooling never reads a service's database):
- every request handled exactly once: one conference per request, `ConferenceScheduled` once per conference
  (one event id; the outbox may publish the same event twice, which is one event), or left unscheduled
  with `ConferenceDeadlineAtRisk` and its reason (handled, and reported);
- no room and no chair double-booked: the arrangements each conference ended with, and the room bookings
  that were not released, never overlap in the same room, nor two conferences of one chair;
- no recipient told the same thing twice: one `NotificationSent` event per notification (its id is made from
  conference, recipient, purpose and version), and every e-mail invitee invited;
- nothing valid dead-lettered: every dead-letter topic stays empty (the load is all valid);
- nothing lost: every request reached one of those ends, every consumer group caught up, every outbox empty.
A mail handed to the mail server just before a kill and not yet recorded is sent again on restart with the
same Message-ID (the known limit, see README): counted from the Maildir and shown, not failed on.
"""

from __future__ import annotations

import asyncio
import mailbox
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from cpc_shared.contracts import Topics

from cpc_stack import casemgmt, infra, processes, services, settling
from cpc_stack.observe import Seen, Watcher, skip_to_end

REQUESTED = "casemgmt.ConferenceRequested.v1"
RECOVERY_LIMIT = 180.0  # seconds a fault may take to recover from before it is reported as not recovered


@dataclass
class Fault:
    kind: str  # "kill" (a service, SIGKILL and restart), "kafka" or "store" (stopped and started again)
    target: str
    at: float  # seconds into the load (planned, then as it happened)
    answering: float | None = None  # seconds from the fault until the service ready / the broker or store answering
    # ... until every service is ready, a request sent after that is scheduled, and the lag of the consumer
    # groups (the killed service's; after a restart of Kafka or the store, all) is back to zero
    caught_up: float | None = None

    def describe(self) -> str:
        what = {"kill": f"kill -9 {self.target}", "kafka": "restart Kafka", "store": "restart the store"}[self.kind]
        answering = f"{self.answering:.1f} s" if self.answering is not None else "never"
        caught_up = f"{self.caught_up:.1f} s" if self.caught_up is not None else f"not within {RECOVERY_LIMIT:.0f} s"
        ready = "ready" if self.kind == "kill" else "answering"
        return f"{self.at:6.1f} s  {what:<24} {ready} after {answering}, caught up after {caught_up}"


@dataclass
class Result:
    requests: int = 0
    scheduled: int = 0
    unscheduled: Counter[str] = field(default_factory=Counter)  # reason -> requests left unscheduled
    faults: list[Fault] = field(default_factory=list)
    settled: bool = False
    settle_seconds: float = 0.0
    events: int = 0
    republished: int = 0  # records carrying an event id already seen (the outbox's at-least-once publishing)
    notifications: int = 0
    mails: int = 0
    mails_sent_again: int = 0  # the known limit: same Message-ID twice
    dead_letters: Counter[str] = field(default_factory=Counter)  # topic: reason -> count
    failures: list[str] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)


@dataclass
class Plan:
    minutes: float
    rate: float  # requests per second
    seed: int
    kills: int

    def faults(self) -> list[Fault]:
        """Seeded: the kills at random moments, Kafka and the store once each, never two at the same moment."""
        rng = random.Random(self.seed)
        seconds = self.minutes * 60
        victims: list[str] = []
        while len(victims) < self.kills:  # each service in turn, in a random order each round
            victims += rng.sample(list(services.SERVICES), len(services.SERVICES))
        kinds = [("kill", victim) for victim in victims[:self.kills]]
        kinds += [("kafka", "kafka"), ("store", "ferretdb")]
        rng.shuffle(kinds)
        # Spread over the load's 10%..85%, each at a random moment within its own share of that span.
        span, first = seconds * 0.75, seconds * 0.1
        share = span / len(kinds)
        return [Fault(kind, target, round(first + i * share + rng.uniform(0, share * 0.5), 1))
                for i, (kind, target) in enumerate(kinds)]


class Chaos:
    def __init__(self, plan: Plan, endpoints: infra.Endpoints, say: Callable[[str], None],
                 extra_env: dict[str, str] | None = None) -> None:
        self.plan, self.endpoints, self.say = plan, endpoints, say
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self.env = {"CPC_DATABASE_PREFIX": f"cpc_chaos_{stamp}", "CPC_RETRY_BACKOFF_SECONDS": "0.2", **(extra_env or {})}
        self.sent: dict[str, dict[str, Any]] = {}  # request_id -> request
        self.result = Result()
        self.watcher: Watcher | None = None
        self.looked_at = 0
        self.faults_done = False
        self.handled_requests: set[str] = set()  # request and case ids the topics said were handled

    async def execute(self) -> Result:
        services.stop()
        await skip_to_end(self.endpoints.kafka)
        mail_before = _mail_keys(self.endpoints.maildir)
        async with Watcher(self.endpoints.kafka, Topics.created()) as watcher:
            self.watcher = watcher
            await asyncio.to_thread(services.start, self.endpoints, None, self.env)
            began = time.monotonic()
            load = asyncio.create_task(self.load(began))
            try:
                for fault in self.plan.faults():
                    await asyncio.sleep(max(0.0, began + fault.at - time.monotonic()))
                    fault.at = round(time.monotonic() - began, 1)  # later than planned if the last took long
                    await self.inject(fault)
                    self.result.faults.append(fault)
                    self.say(fault.describe())
                self.faults_done = True
                await load
            finally:
                load.cancel()
            self.say(f"load done: {len(self.sent)} requests; waiting for the services to settle")
            settling_began = time.monotonic()
            self.result.settled = await settling.settle(self.endpoints.kafka, watcher)
            self.result.settle_seconds = time.monotonic() - settling_began
            self.check(watcher.seen)
        self.count_mail(mail_before)
        return self.result

    # The load -----------------------------------------------------------------------------------

    async def load(self, began: float) -> None:
        rng = random.Random(self.plan.seed)
        used: set[int] = set()
        producer = AIOKafkaProducer(bootstrap_servers=self.endpoints.kafka, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            index = 0
            # The planned minutes, and on until every fault has been recovered from: the time to recover is
            # measured by requests that follow the fault.
            while time.monotonic() - began < self.plan.minutes * 60 or not self.faults_done:
                await asyncio.sleep(max(0.0, began + index / self.plan.rate - time.monotonic()))
                index += 1
                case_number = rng.randrange(10_000, 99_999)
                while case_number in used:
                    case_number = rng.randrange(10_000, 99_999)
                used.add(case_number)
                request = casemgmt.conference_requested(case_number, rng=random.Random(case_number))
                headers, key, value = casemgmt.record(REQUESTED, request, request["case_id"])
                while True:  # the same record (the same event id) again until Kafka takes it
                    try:
                        await producer.send_and_wait(Topics.CASEMGMT, value, key=key, headers=headers)
                        break
                    except Exception:  # Kafka restarting
                        await asyncio.sleep(1)
                self.sent[request["request_id"]] = request
        finally:
            await producer.stop()

    # The faults ---------------------------------------------------------------------------------

    async def inject(self, fault: Fault) -> None:
        start = time.monotonic()
        if fault.kind == "kill":
            await asyncio.to_thread(processes.kill, fault.target)
            await asyncio.to_thread(services.start, self.endpoints, [fault.target], self.env)
            fault.answering = time.monotonic() - start
            groups = f"cpc-{fault.target}."
        else:
            await asyncio.to_thread(processes.stop, fault.target, 30)
            await asyncio.to_thread(infra.start_kafka if fault.kind == "kafka" else infra.start_ferretdb)
            while time.monotonic() - start < RECOVERY_LIMIT:
                if await self.answers(fault.kind):
                    fault.answering = time.monotonic() - start
                    break
                await asyncio.sleep(0.3)
            groups = "cpc-"
        after = len(self.sent)  # the requests sent from now on show that the whole flow runs again
        while time.monotonic() - start < RECOVERY_LIMIT:
            ready = await asyncio.to_thread(lambda: all(services.is_ready(name) for name in services.SERVICES))
            if ready and self.scheduled_since(after) and await settling.lag(self.endpoints.kafka, groups) == 0:
                fault.caught_up = time.monotonic() - start
                return
            await asyncio.sleep(0.5)

    def scheduled_since(self, first: int) -> bool:
        """Whether a request sent after the first `first` has been scheduled (or reported unschedulable)."""
        later = list(self.sent.values())[first:]
        assert self.watcher is not None
        handled = {(s.data.get("request_id"), s.data.get("case_id")) for s in self.watcher.seen[self.looked_at:]
                   if s.type in ("cpc.ConferenceScheduled.v1", "cpc.ConferenceDeadlineAtRisk.v1") and isinstance(s.data, dict)}
        self.looked_at = len(self.watcher.seen)
        self.handled_requests |= {rid for rid, _ in handled} | {case for _, case in handled}
        return any(r["request_id"] in self.handled_requests or r["case_id"] in self.handled_requests for r in later)

    async def answers(self, kind: str) -> bool:
        if kind == "kafka":
            return await infra._kafka_answers(self.endpoints.kafka)  # noqa: SLF001
        return await asyncio.to_thread(infra._mongo_answers, self.endpoints.mongodb)  # noqa: SLF001

    # The figures --------------------------------------------------------------------------------

    def check(self, seen: list[Seen]) -> None:
        result, failures = self.result, self.result.failures
        ids = Counter(s.headers.get("ce_id") for s in seen if s.headers.get("ce_id"))
        result.events = len(ids)
        result.republished = sum(n - 1 for n in ids.values())
        events = list({s.headers.get("ce_id", str(i)): s for i, s in enumerate(seen)}.values())  # each event once
        result.requests = len(self.sent)
        for s in seen:
            if s.topic.endswith(".dlq"):
                result.dead_letters[f"{s.topic}: {s.headers.get('dlq_reason', '?')[:80]}"] += 1
        if result.dead_letters:
            failures.append(f"{sum(result.dead_letters.values())} valid events dead-lettered")

        def of(event_type: str) -> list[dict[str, Any]]:
            return [s.data for s in events if s.type == event_type and isinstance(s.data, dict)]

        cases = {r["case_id"]: rid for rid, r in self.sent.items()}
        scheduled = [d for d in of("cpc.ConferenceScheduled.v1") if d.get("request_id") in self.sent]
        per_request: dict[str, set[str]] = defaultdict(set)
        per_conference: Counter[str] = Counter()
        for d in scheduled:
            per_request[d["request_id"]].add(d["conference_id"])
            per_conference[d["conference_id"]] += 1
        result.scheduled = len(per_request)
        doubled = [rid for rid, conferences in per_request.items() if len(conferences) > 1]
        if doubled:
            failures.append(f"{len(doubled)} requests made more than one conference")
        twice = [cid for cid, n in per_conference.items() if n > 1]
        if twice:
            failures.append(f"{len(twice)} conferences scheduled more than once")
        at_risk = {d["case_id"]: d["reason"] for d in of("cpc.ConferenceDeadlineAtRisk.v1") if d.get("case_id") in cases}
        lost = []
        for rid, request in self.sent.items():
            if rid in per_request:
                continue
            if request["case_id"] in at_risk:
                result.unscheduled[at_risk[request["case_id"]]] += 1
            else:
                lost.append(rid)
        if lost:
            failures.append(f"{len(lost)} requests neither scheduled nor reported unscheduled (lost)")

        # The arrangements each conference ended with (its latest version), unless cancelled.
        ours = {cid for conferences in per_request.values() for cid in conferences}
        cancelled = {d["conference_id"] for d in of("cpc.ConferenceCancelled.v1")}
        latest: dict[str, dict[str, Any]] = {}
        for d in scheduled + of("cpc.ConferenceRescheduled.v1"):
            if d["conference_id"] in ours and d.get("version", 1) >= latest.get(d["conference_id"], {}).get("version", 0):
                latest[d["conference_id"]] = d
        final = [d for cid, d in latest.items() if cid not in cancelled]
        rooms = _overlaps([(d["room_id"], d["starts_at"], d["ends_at"]) for d in final if d.get("room_id")])
        chairs = _overlaps([(d["chair_id"], d["starts_at"], d["ends_at"]) for d in final])
        released = {d["booking_id"] for d in of("cpc.RoomReleased.v1")}
        held = _overlaps([(d["room_id"], d["starts_at"], d["ends_at"]) for d in of("cpc.RoomBooked.v1")
                          if d["conference_id"] in ours and d["booking_id"] not in released])
        if rooms or held:
            failures.append(f"rooms double-booked: {rooms} among conferences, {held} among bookings not released")
        if chairs:
            failures.append(f"chairs double-booked: {chairs}")

        sent = [s for s in events if s.type == "cpc.NotificationSent.v1" and s.data.get("conference_id") in ours]
        result.notifications = len(sent)
        told = Counter(s.data["notification_id"] for s in sent)
        again = sum(n - 1 for n in told.values() if n > 1)
        if again:
            failures.append(f"{again} notifications sent twice (a second NotificationSent for the same notification)")
        invited = {(s.data["conference_id"], s.data["recipient_id"]) for s in sent if s.data["purpose"] == "invitation"}
        failed = {(d["conference_id"], d["recipient_id"]) for d in of("cpc.NotificationFailed.v1") if d["conference_id"] in ours}
        uninvited = sum(1 for rid, cids in per_request.items() for cid in cids for p in self.sent[rid]["participants"]
                        if p.get("preferred_channel", "email") == "email"
                        and (cid, p["participant_id"]) not in invited | failed)
        if uninvited:
            failures.append(f"{uninvited} e-mail invitees of scheduled conferences never invited (lost)")
        requested_reports = {d["conference_id"] for d in of("cpc.ReportRequested.v1")} & ours
        if len(requested_reports) < len(ours):
            failures.append(f"{len(ours) - len(requested_reports)} scheduled conferences with no report requested (lost)")
        if not result.settled:
            failures.append("the services did not settle (consumer lag or outboxes not empty)")
        result.figures = {
            "conferences scheduled": len(ours), "cancelled": len(ours & cancelled),
            "room bookings": len({d["booking_id"] for d in of("cpc.RoomBooked.v1") if d["conference_id"] in ours}),
            "rooms released": len({d["booking_id"] for d in of("cpc.RoomReleased.v1") if d["conference_id"] in ours}),
            "reports requested": len({d["report_id"] for d in of("cpc.ReportRequested.v1") if d["conference_id"] in ours}),
            "invitations sent": len(invited), "notifications failed": len(failed),
        }

    def count_mail(self, before: set[str]) -> None:
        box = mailbox.Maildir(str(self.endpoints.maildir), create=False)
        message_ids: Counter[str] = Counter()
        for key in _mail_keys(self.endpoints.maildir) - before:
            try:
                with box.get_file(key) as file:
                    headers = BytesParser().parse(file, headersonly=True)
            except (KeyError, OSError):
                continue
            message_ids[headers.get("Message-ID", key)] += 1
        self.result.mails = sum(message_ids.values())
        self.result.mails_sent_again = sum(n - 1 for n in message_ids.values())


def _mail_keys(maildir: Path) -> set[str]:
    try:
        return set(mailbox.Maildir(str(maildir), create=False).iterkeys())
    except OSError:
        return set()


def _overlaps(periods: list[tuple[str, str, str]]) -> int:
    """How many times two periods of the same room or chair overlap."""
    by_owner: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for owner, starts, ends in periods:
        by_owner[owner].append((datetime.fromisoformat(starts), datetime.fromisoformat(ends)))
    count = 0
    for spans in by_owner.values():
        spans.sort()
        latest_end = None
        for start, end in spans:
            if latest_end is not None and start < latest_end:
                count += 1
            latest_end = end if latest_end is None else max(latest_end, end)
    return count


def report(result: Result, plan: Plan, say: Callable[[str], None]) -> None:
    say(f"chaos: {plan.minutes:g} min at {plan.rate:g} requests/s, seed {plan.seed}, {plan.kills} kills")
    say("faults (seconds into the load; recovery from the fault):")
    for fault in result.faults:
        say("  " + fault.describe())
    say(f"settled {'after' if result.settled else 'NOT within'} {result.settle_seconds:.0f} s; {result.events} events "
        f"({result.republished} records published again with the same event id: at least once, one event)")
    unscheduled = sum(result.unscheduled.values())
    say(f"requests {result.requests}: scheduled once {result.scheduled}, left unscheduled with a reason {unscheduled}"
        + (f" ({', '.join(f'{r} {n}' for r, n in result.unscheduled.items())})" if unscheduled else "")
        + f", lost {result.requests - result.scheduled - unscheduled}")
    say("  " + ", ".join(f"{name} {n}" for name, n in result.figures.items()))
    say(f"notifications sent {result.notifications}; mails {result.mails}, of which sent again with the same "
        f"Message-ID (a kill between sending and recording; the known limit) {result.mails_sent_again}")
    say(f"dead letters {sum(result.dead_letters.values())}"
        + "".join(f"\n  {where} x{n}" for where, n in result.dead_letters.items()))
    recovered = [f.caught_up for f in result.faults if f.caught_up is not None]
    if recovered:
        say(f"time to recover: median {sorted(recovered)[len(recovered) // 2]:.1f} s, longest {max(recovered):.1f} s")
    say("invariants: " + ("all hold" if not result.failures else "BROKEN\n  " + "\n  ".join(result.failures)))


def run_chaos(plan: Plan, say: Callable[[str], None], extra_env: dict[str, str] | None = None) -> Result:
    """Start the stack and the services, run the plan, stop the services (the stack keeps running)."""
    endpoints = infra.up()
    chaos = Chaos(plan, endpoints, say, extra_env)
    say(f"databases {chaos.env['CPC_DATABASE_PREFIX']}_*; faults planned at "
        + ", ".join(f"{f.at:.0f} s {f.target}" for f in plan.faults()))
    try:
        result = asyncio.run(chaos.execute())
    finally:
        infra.up()  # whatever a fault left stopped
        services.stop()
    report(result, plan, say)
    return result
