"""`./dev bench`: how fast a council's month goes through the system, beside what the raw parts can do.

The target (issue: the main job) is a simulated month, on this stack, in a few minutes. This prints what the
run took and its throughput, and in the same run what Kafka and the store do alone: the services' work is
mostly one-document writes and one-record publishes, so those are the baselines. Figures, not verdicts:
nothing here passes or fails.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient
from rich.console import Console
from rich.table import Table

from cpc_stack import infra
from cpc_stack.paths import REPO

STORE_DOCUMENTS = 5_000  # about a month's messages in notifications' store
KAFKA_RECORDS = 5_000


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


def bench(console: Console, profile: str, days: int, speed: float, progress_factory, latency_rate: float = 20.0,
          latency_seconds: float = 15.0, burst: int = 300) -> None:
    from cpc_stack.simulation.run import simulate_and_report

    endpoints = infra.up()
    console.print("Baselines: the store and Kafka alone")
    store = asyncio.run(store_baseline(endpoints.mongodb))
    kafka = asyncio.run(kafka_baseline(endpoints.kafka))
    operations_before = infra.store_operations()
    began = time.perf_counter()
    outcome = simulate_and_report(profile, days, 2022, speed, None, console, progress_factory)
    total = time.perf_counter() - began
    operations_after = infra.store_operations()
    took, simulation = outcome.simulation.seconds, outcome.simulation
    messages = sum(m["count"] for m in outcome.figures["messages"])
    busy = took.get("simulated_days", 0) - simulation.paced + took.get("catching_up", 0)

    table = Table("measure", "figure", box=None, header_style="bold", title=f"{profile}, {days} days, --speed {speed:g}")
    table.add_row("the whole run, stack already up (s)", f"{total:.0f}")
    table.add_row("  simulated days (s)", f"{took.get('simulated_days', 0):.0f}")
    table.add_row("    of which waiting for the simulated clock (s)", f"{simulation.paced:.0f}")
    table.add_row("    of which the services finishing each hour's work (s)", f"{simulation.kept_pace:.0f}")
    table.add_row("  services catching up after the last day (s)", f"{took.get('catching_up', 0):.0f}")
    table.add_row("case-management events in", f"{simulation.published}")
    table.add_row("events the services published", f"{outcome.events}")
    table.add_row("messages sent", f"{messages}")
    if busy > 0:
        table.add_row("events published per second not spent waiting", f"{outcome.events / busy:.0f}")
    if operations_before is not None and operations_after is not None and busy > 0:
        operations = operations_after - operations_before
        table.add_row("store reads and writes the run made (FerretDB's own count)", f"{operations}")
        table.add_row("  per case-management event", f"{operations / max(simulation.published, 1):.0f}")
        table.add_row("  per second not spent waiting (beside the store alone, below)", f"{operations / busy:.0f}")
    table.add_row("settled (everything handled before the report)", "yes" if simulation.settled else "[red]no[/red]")
    for name, mb in outcome.memory.items():
        table.add_row(f"peak resident memory: {name} (MB)", f"{mb:.0f}")
    for name, figure in store.items():
        table.add_row(f"store alone: {name}", f"{figure:.0f}")
    for name, figure in kafka.items():
        table.add_row(f"Kafka alone: {name}", f"{figure:.0f}")
    console.print(table)
    if latency_rate:
        latency_table(console, endpoints, profile, latency_rate, latency_seconds, burst)


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
