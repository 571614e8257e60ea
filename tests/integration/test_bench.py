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


def test_cpu_time_is_read_from_the_running_process():
    import sys
    import time

    from cpc_stack import processes

    busy, idle = "cpu-probe-busy", "cpu-probe-idle"
    processes.start(busy, [sys.executable, "-c", "import time\nend = time.time() + 60\nwhile time.time() < end: pass"])
    processes.start(idle, [sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(2.0)
        used = processes.cpu_seconds([busy, idle, "not-running"])
        assert set(used) == {busy, idle}
        assert 0.5 <= used[busy] <= 2.0 * 2 and used[idle] < 0.5
        time.sleep(0.5)
        assert processes.cpu_seconds([busy])[busy] > used[busy]
    finally:
        processes.stop_all([busy, idle], timeout=5)
    assert processes.cpu_seconds([busy, idle]) == {}


def test_the_cost_per_conference_is_each_figure_divided_by_the_conferences_of_its_period():
    from types import SimpleNamespace

    from cpc_stack.bench import Period, volume_table
    from rich.console import Console

    def period(days: int, conferences: int, events: int, operations: int | None, busy: float) -> Period:
        simulation = SimpleNamespace(published=conferences * 2, seconds={"simulated_days": busy + 5, "catching_up": 1.0},
                                     paced=6.0, cpu={"scheduling": conferences * 0.01, "rooms": conferences * 0.01,
                                                     "ferretdb": conferences * 0.05, "kafka": 1.0, "smtp": 9.0})
        outcome = SimpleNamespace(simulation=simulation, events=events, figures={"conferences_in_store": conferences})
        return Period(days, outcome, busy + 10, operations)  # type: ignore[arg-type]

    small, large = period(3, 10, 300, 1_000, 2.0), period(30, 100, 3_000, 12_000, 30.0)
    assert small.busy == 2.0 and large.busy == 30.0  # less the simulated clock's waiting
    assert small.cost() == {"case-management events in": 2.0, "events the services published": 30.0,
                            "store reads and writes": 100.0, "CPU: the five services (ms)": 20.0,
                            "CPU: the store (FerretDB) (ms)": 50.0, "CPU: Kafka (ms)": 100.0,
                            "wall-clock time of the services' work (ms)": 200.0}
    assert large.cost()["store reads and writes"] == 120.0 and large.cost()["CPU: Kafka (ms)"] == 10.0
    assert "store reads and writes" not in period(3, 10, 300, None, 2.0).cost()  # no count from the store
    assert small.cost(per_event=True) == {"store reads and writes": 1_000 / 300, "CPU: the five services (ms)": 200 / 300,
                                          "CPU: the store (FerretDB) (ms)": 500 / 300, "CPU: Kafka (ms)": 1_000 / 300,
                                          "wall-clock time of the services' work (ms)": 2_000 / 300}

    console = Console(record=True, width=200)
    console.print(volume_table(small, large))
    lines = console.export_text().splitlines()
    per_event = next(n for n, line in enumerate(lines) if line.strip() == "per event the services published")
    rows = {line.strip().split("  ")[0]: line.split() for line in lines[:per_event]}
    assert rows["store reads and writes"][-3:] == ["100.0", "120.0", "1.20"]
    assert rows["CPU: Kafka (ms)"][-3:] == ["100.0", "10.0", "0.10"]
    assert rows["conferences (every one the topics name)"][-3:] == ["10", "100", "10.0"]
    rows = {line.strip().split("  ")[0]: line.split() for line in lines[per_event:]}
    assert rows["store reads and writes"][-3:] == ["3.3", "4.0", "1.20"]
    assert rows["CPU: Kafka (ms)"][-3:] == ["3.3", "0.3", "0.10"]
