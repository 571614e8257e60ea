"""`./dev bench`'s baselines run against the real store and Kafka, and leave nothing behind."""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient
from cpc_stack.bench import kafka_baseline, store_baseline
from pymongo import AsyncMongoClient


async def test_the_baselines_measure_the_store_and_kafka_and_clean_up(stack):
    store = await store_baseline(stack.mongodb)
    kafka = await kafka_baseline(stack.kafka)
    assert set(store) == {"insert one (ops/s)", "update one by _id (ops/s)", "find one by _id (ops/s)",
                          "find by another field, whole collection (ms)"}
    assert set(kafka) == {"publish one, acknowledged (records/s)", "read back (records/s)"}
    assert all(figure > 0 for figure in [*store.values(), *kafka.values()])

    client = AsyncMongoClient(stack.mongodb)
    try:
        assert not [name for name in await client.list_database_names() if name.startswith("cpc_bench_")]
    finally:
        await client.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka)
    await admin.start()
    try:
        for _ in range(20):  # a deleted topic leaves the brokers' metadata within moments
            left = [name for name in await admin.list_topics() if name.startswith("cpc.bench.")]
            if not left:
                break
            await asyncio.sleep(0.5)
        assert not left
    finally:
        await admin.close()


def test_latency_counts_each_request_from_its_sending_to_its_answer():
    from types import SimpleNamespace

    from cpc_stack.latency import _figures
    from cpc_stack.observe import Seen

    made = [{"request_id": f"R{n}", "case_id": f"K{n}", "participants": [{"participant_id": f"P{n}", "role": "parent"}]}
            for n in range(3)]
    sent_at = {"R0": 100.0, "R1": 101.0, "R2": 102.0}

    def seen(event_type: str, at: float, **data) -> Seen:
        return Seen("cpc.conferences", event_type, None, {}, data, int(at * 1000))

    events = [seen("cpc.ConferenceScheduled.v1", 100.5, request_id="R0", conference_id="C0"),
              seen("cpc.ConferenceScheduled.v1", 103.0, request_id="R1", conference_id="C1"),
              seen("cpc.ConferenceDeadlineAtRisk.v1", 104.0, conference_id="C2", case_id="K2"),
              seen("cpc.NotificationSent.v1", 102.0, conference_id="C0", recipient_id="P0", purpose="invitation"),
              seen("cpc.NotificationSent.v1", 109.0, conference_id="C0", recipient_id="P0", purpose="invitation")]
    watcher = SimpleNamespace(of_type=lambda t, **f: [e for e in events if e.type == t
                                                      and all(e.data.get(k) == v for k, v in f.items())])
    figures = _figures("test", made, sent_at, watcher, published=2.0)  # type: ignore[arg-type]
    assert figures.scheduled == [0.5, 2.0] and figures.invited == [2.0]  # the first invitation counts
    assert (figures.unplaced, figures.unanswered) == (1, 0)
    assert figures.seconds == 3.0 and figures.row([0.5]) == "0.50 / 0.50 / 0.50"


def test_peak_resident_memory_is_read_from_the_running_process():
    import sys
    import time

    from cpc_stack import processes, services

    name = "memory-probe"
    processes.start(name, [sys.executable, "-c", "import time; block = bytearray(80_000_000); time.sleep(60)"])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and services.peak_resident_mb([name]).get(name, 0) < 80:
            time.sleep(0.2)
        assert 80 <= services.peak_resident_mb([name])[name] < 200
    finally:
        processes.stop(name, timeout=5)
    assert services.peak_resident_mb([name]) == {}


def test_a_late_conference_counts_once_as_scheduled_and_an_unplaced_one_apart():
    """ConferenceDeadlineAtRisk goes out with a late conference's ConferenceScheduled: counting both ended the
    latency phase before every request was answered."""
    from types import SimpleNamespace

    from cpc_stack.latency import _answers
    from cpc_stack.observe import Seen

    made = [{"request_id": f"R{n}", "case_id": f"C{n}"} for n in range(3)]

    def event(event_type: str, **data: str) -> Seen:
        return Seen("cpc.conferences", event_type, None, {}, data, 0)

    events = [event("cpc.ConferenceScheduled.v1", request_id="R0", conference_id="K0", case_id="C0"),
              event("cpc.ConferenceScheduled.v1", request_id="R1", conference_id="K1", case_id="C1"),
              event("cpc.ConferenceDeadlineAtRisk.v1", conference_id="K1", case_id="C1"),  # late, and scheduled
              event("cpc.ConferenceDeadlineAtRisk.v1", conference_id="K9", case_id="C9"),  # another phase's
              event("cpc.ConferenceScheduled.v1", request_id="R9", conference_id="K9", case_id="C9")]
    watcher = SimpleNamespace(of_type=lambda t: [e for e in events if e.type == t])
    scheduled, unplaced = _answers(made, watcher)  # type: ignore[arg-type]
    assert set(scheduled) == {"R0", "R1"} and unplaced == set()
    events.append(event("cpc.ConferenceDeadlineAtRisk.v1", conference_id="K2", case_id="C2"))  # never placed
    scheduled, unplaced = _answers(made, watcher)  # type: ignore[arg-type]
    assert set(scheduled) == {"R0", "R1"} and unplaced == {"C2"}


async def test_the_local_stores_own_count_of_reads_and_writes_grows_with_each_one(stack):
    from cpc_stack import infra

    client: AsyncMongoClient = AsyncMongoClient(stack.mongodb)
    try:
        before = infra.store_operations()
        assert before is not None  # the local stack's FerretDB tells its count
        await client["cpc_bench_count"]["things"].insert_one({"_id": "one"})
        await client["cpc_bench_count"]["things"].find_one({"_id": "one"})
        after = infra.store_operations()
        assert after is not None and after >= before + 2
    finally:
        await client.drop_database("cpc_bench_count")
        await client.close()
