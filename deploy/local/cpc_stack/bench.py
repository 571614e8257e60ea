"""`./dev bench`: how fast a council's month goes through the system, beside what the raw parts can do.

It prints what a simulated period took and its throughput, and in the same run what Kafka and the store do
alone: the services' work is mostly one-document writes and one-record publishes, so those are the baselines.
A tenth of the period runs first, on databases of its own, so that each conference's cost (store calls, CPU of
each part, the services' time) can be set beside the cost when the volume is ten times larger. Then latency,
at a steady rate and at full speed (`latency.py`). Figures, not verdicts: nothing here passes or fails.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient
from rich.console import Console
from rich.table import Table

from cpc_stack import infra, services
from cpc_stack.paths import REPO
from cpc_stack.simulation.run import Outcome, simulate_and_report

STORE_DOCUMENTS = 5_000  # about a month's messages in notifications' store
KAFKA_RECORDS = 5_000
VOLUME_FACTOR = 10  # the cost per conference in a period and in one this many times as long


async def store_baseline(mongodb: str) -> dict[str, float]:
    """One-document operations by `_id` on a month-sized collection, one at a time (as a service's writes go)."""
    client: AsyncMongoClient = AsyncMongoClient(mongodb, tz_aware=True)
    database = client[f"cpc_bench_{uuid.uuid4().hex[:8]}"]
    collection = database["messages"]
    now = datetime.now(UTC)

    def document(n: int) -> dict:
        return {"_id": f"NTF-{n:06d}", "conference_id": f"CPC-{n // 20:05d}", "status": "sending", "at": now}

    entry = {"id": "e", "type": "cpc.NotificationSent.v1", "key": "CPC-1", "time": now, "data": {"channel": "email"}}
    figures: dict[str, float] = {}
    try:
        await collection.insert_many([document(n) for n in range(STORE_DOCUMENTS)])
        sample = range(STORE_DOCUMENTS, STORE_DOCUMENTS + 1_000)
        began = time.perf_counter()
        for n in sample:
            await collection.insert_one(document(n))
        figures["insert one (ops/s)"] = len(sample) / (time.perf_counter() - began)
        began = time.perf_counter()
        for n in sample:
            await collection.update_one({"_id": f"NTF-{n:06d}"}, {"$set": {"status": "sent"}, "$push": {"outbox": entry}})
        figures["update one by _id (ops/s)"] = len(sample) / (time.perf_counter() - began)
        began = time.perf_counter()
        for n in sample:
            await collection.find_one({"_id": f"NTF-{n:06d}"})
        figures["find one by _id (ops/s)"] = len(sample) / (time.perf_counter() - began)
        began = time.perf_counter()
        await collection.find({"status": "none such"}).to_list()
        figures["find by another field, whole collection (ms)"] = 1000 * (time.perf_counter() - began)
    finally:
        await client.drop_database(database.name)
        await client.close()
    return figures


async def kafka_baseline(bootstrap: str) -> dict[str, float]:
    """Records of an event's size published one at a time and acknowledged by the broker (as the relays do),
    then read back."""
    topic = f"cpc.bench.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    value = b"x" * 600
    figures: dict[str, float] = {}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        began = time.perf_counter()
        for n in range(KAFKA_RECORDS):
            await producer.send_and_wait(topic, value, key=f"CPC-{n % 300}".encode())
        figures["publish one, acknowledged (records/s)"] = KAFKA_RECORDS / (time.perf_counter() - began)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        began, read = time.perf_counter(), 0
        while read < KAFKA_RECORDS:
            batch = await consumer.getmany(partition, timeout_ms=1000)
            read += sum(len(records) for records in batch.values())
        figures["read back (records/s)"] = read / (time.perf_counter() - began)
    finally:
        await consumer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()
    return figures


@dataclass(frozen=True)
class Period:
    """One simulated period through the whole system, as the bench measured it."""

    days: int
    outcome: Outcome
    seconds: float  # the whole run, the stack already up
    operations: int | None  # the store's reads and writes (FerretDB's own count)

    @property
    def busy(self) -> float:
        """Seconds of the run not spent waiting for the simulated clock: the services' work."""
        took = self.outcome.simulation.seconds
        return took.get("simulated_days", 0) - self.outcome.simulation.paced + took.get("catching_up", 0)

    @property
    def conferences(self) -> int:
        return int(self.outcome.figures["conferences_in_store"])

    def cost(self, per_event: bool = False) -> dict[str, float]:
        """What each conference (or each event the services published) cost: store calls, CPU by part of the
        stack (ms), the services' wall-clock time (ms)."""
        cpu = self.outcome.simulation.cpu
        per = max(self.outcome.events if per_event else self.conferences, 1)
        parts = {"the five services": sum(cpu.get(name, 0.0) for name in services.SERVICES),
                 "the store (FerretDB)": cpu.get("ferretdb", 0.0), "Kafka": cpu.get("kafka", 0.0)}
        cost = {} if per_event else {"case-management events in": self.outcome.simulation.published / per,
                                     "events the services published": self.outcome.events / per}
        if self.operations is not None:
            cost["store reads and writes"] = self.operations / per
        cost |= {f"CPU: {part} (ms)": 1000 * seconds / per for part, seconds in parts.items()}
        cost["wall-clock time of the services' work (ms)"] = 1000 * self.busy / per
        return cost


def measure(console: Console, profile: str, days: int, speed: float, progress_factory) -> Period:
    operations_before = infra.store_operations()
    began = time.perf_counter()
    outcome = simulate_and_report(profile, days, 2022, speed, None, console, progress_factory)
    seconds = time.perf_counter() - began
    operations_after = infra.store_operations()
    operations = None if operations_before is None or operations_after is None else operations_after - operations_before
    return Period(days, outcome, seconds, operations)


def bench(console: Console, profile: str, days: int, speed: float, progress_factory, latency_rate: float = 20.0,
          latency_seconds: float = 15.0, burst: int = 300) -> None:
    endpoints = infra.up()
    console.print("Baselines: the store and Kafka alone")
    store = asyncio.run(store_baseline(endpoints.mongodb))
    kafka = asyncio.run(kafka_baseline(endpoints.kafka))
    smaller = None
    if days >= VOLUME_FACTOR:
        console.print(f"First a tenth of the period ({days // VOLUME_FACTOR} days), for the cost per conference "
                      "as volume grows")
        smaller = measure(console, profile, days // VOLUME_FACTOR, speed, progress_factory)
    period = measure(console, profile, days, speed, progress_factory)
    console.print(period_table(period, profile, speed, store, kafka))
    if smaller is not None:
        console.print(volume_table(smaller, period))
    if latency_rate:
        latency_table(console, endpoints, profile, latency_rate, latency_seconds, burst)


def period_table(period: Period, profile: str, speed: float, store: dict[str, float], kafka: dict[str, float]) -> Table:
    outcome, busy = period.outcome, period.busy
    took, simulation = outcome.simulation.seconds, outcome.simulation
    messages = sum(m["count"] for m in outcome.figures["messages"])
    table = Table("measure", "figure", box=None, header_style="bold",
                  title=f"{profile}, {period.days} days, --speed {speed:g}")
    table.add_row("the whole run, stack already up (s)", f"{period.seconds:.0f}")
    table.add_row("  simulated days (s)", f"{took.get('simulated_days', 0):.0f}")
    table.add_row("    of which waiting for the simulated clock (s)", f"{simulation.paced:.0f}")
    table.add_row("    of which the services finishing each hour's work (s)", f"{simulation.kept_pace:.0f}")
    table.add_row("  services catching up after the last day (s)", f"{took.get('catching_up', 0):.0f}")
    table.add_row("case-management events in", f"{simulation.published}")
    table.add_row("events the services published", f"{outcome.events}")
    table.add_row("messages sent", f"{messages}")
    if busy > 0:
        table.add_row("events published per second not spent waiting", f"{outcome.events / busy:.0f}")
    if period.operations is not None and busy > 0:
        table.add_row("store reads and writes the run made (FerretDB's own count)", f"{period.operations}")
        table.add_row("  per case-management event", f"{period.operations / max(simulation.published, 1):.0f}")
        table.add_row("  per second not spent waiting (beside the store alone, below)", f"{period.operations / busy:.0f}")
    table.add_row("settled (everything handled before the report)", "yes" if simulation.settled else "[red]no[/red]")
    for name, mb in outcome.memory.items():
        table.add_row(f"peak resident memory: {name} (MB)", f"{mb:.0f}")
    for name, seconds in sorted(simulation.cpu.items(), key=lambda item: -item[1]):
        table.add_row(f"CPU time: {name} (s)", f"{seconds:.1f}")
    for name, figure in store.items():
        table.add_row(f"store alone: {name}", f"{figure:.0f}")
    for name, figure in kafka.items():
        table.add_row(f"Kafka alone: {name}", f"{figure:.0f}")
    return table


def volume_table(smaller: Period, larger: Period) -> Table:
    """Each conference's cost in a period and in one ten times as long (more requests, fuller stores and diaries),
    and each published event's. A conference of the short period has not lived its whole life yet (reports,
    reminders, the day held, the outcome), so per conference the long period does more; per event published,
    a unit of the services' work, a ratio above 1 is what grows with the volume the services hold."""
    table = Table("", f"{smaller.days} days", f"{larger.days} days", "ratio", box=None, header_style="bold",
                  title=f"The cost per conference as volume grows {larger.days / smaller.days:g}×")
    table.add_row("conferences (every one the topics name)", str(smaller.conferences), str(larger.conferences),
                  f"{larger.conferences / max(smaller.conferences, 1):.1f}")
    for heading, per_event in (("per conference", False), ("per event the services published", True)):
        table.add_row(f"[bold]{heading}[/bold]")
        small, large = smaller.cost(per_event), larger.cost(per_event)
        for measure_name, figure in small.items():
            if measure_name in large:
                ratio = f"{large[measure_name] / figure:.2f}" if figure else "-"
                table.add_row(f"  {measure_name}", f"{figure:.1f}", f"{large[measure_name]:.1f}", ratio)
    return table


def latency_table(console: Console, endpoints: infra.Endpoints, profile: str, rate: float, seconds: float,
                  burst: int) -> None:
    from cpc_stack import latency
    from cpc_stack.simulation.runner import PROFILES

    console.print(f"Latency: {rate:g} requests a second for {seconds:g} s, then {burst} at once (fresh databases)")
    path, _ = PROFILES[profile]
    phases, memory = latency.run(endpoints, str(REPO / path), date.today() - timedelta(days=1), rate, seconds, burst)
    table = Table("phase", "requests", "scheduled per s", "to scheduled p50/p95/p99 (s)",
                  "to the family's invitation p50/p95/p99 (s)", "not placed", "unanswered", box=None, header_style="bold")
    for phase in phases:
        table.add_row(phase.label, str(phase.requests), f"{phase.throughput:.1f}", phase.row(phase.scheduled),
                      phase.row(phase.invited), str(phase.unplaced), str(phase.unanswered))
    console.print(table)
    console.print("Peak resident memory over both phases (MB): "
                  + ", ".join(f"{name} {mb:.0f}" for name, mb in memory.items()))
