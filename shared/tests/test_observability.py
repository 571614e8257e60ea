"""Metrics exposition and trace context through the outbox, without a broker or a store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from cpc_shared.contracts.outbound import ConferenceCancelled
from cpc_shared.metrics import Metrics
from cpc_shared.outbox import OutboxRelay, outbox_entry
from cpc_shared.tracing import configure_tracing, continued, current_trace, tracing_configured
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client.parser import text_string_to_metric_families


def samples(exposition: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(exposition.decode()) for sample in family.samples}


def test_the_exposition_parses_and_counts_dead_letters_by_class_only():
    metrics = Metrics()
    metrics.expect_dead_letters("casemgmt.events")
    metrics.dead_lettered("casemgmt.events", "invalid_body")
    metrics.dead_lettered("casemgmt.events", "participants.0.email: Jane Doe <jane@example.org> is not valid")
    found = samples(asyncio.run(metrics.exposition()))
    assert found[("cpc_dead_letters_total", (("reason", "invalid_body"), ("topic", "casemgmt.events")))] == 1
    assert found[("cpc_dead_letters_total", (("reason", "rejected"), ("topic", "casemgmt.events")))] == 0
    assert found[("cpc_dead_letters_total", (("reason", "other"), ("topic", "casemgmt.events")))] == 1
    assert not any("jane" in value.lower() for _, labels in found for _, value in labels)


def test_a_gauge_is_computed_when_scraped_and_a_slow_or_failing_one_keeps_its_value():
    metrics = Metrics()
    figures = iter([3.0, 5.0])

    async def measure() -> float:
        return next(figures)

    async def broken() -> float:
        raise RuntimeError("store away")

    metrics.gauge("cpc_test_figure", "A figure.", measure)
    metrics.gauge("cpc_test_broken", "Never computed.", broken)
    assert samples(asyncio.run(metrics.exposition()))[("cpc_test_figure", ())] == 3.0
    found = samples(asyncio.run(metrics.exposition()))
    assert found[("cpc_test_figure", ())] == 5.0
    assert found[("cpc_test_broken", ())] == 0.0


def test_tracing_is_off_unless_an_otlp_endpoint_is_configured():
    assert not tracing_configured({})
    assert configure_tracing("scheduling", {}) is None
    assert tracing_configured({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert not tracing_configured({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"})


def test_without_a_span_an_outbox_entry_carries_no_trace_context():
    entry = outbox_entry(ConferenceCancelled(conference_id="CONF-1", case_id="CASE-1", reason="plan_ended"),
                         at=datetime.now(UTC), cause="test")
    assert current_trace() == {}
    assert "traceparent" not in entry


class RecordingBroker:
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []
        self.trace_ids: list[int] = []

    async def publish(self, value: bytes, **kwargs: Any) -> None:
        self.published.append(kwargs)
        self.trace_ids.append(trace.get_current_span().get_span_context().trace_id)


def test_the_relay_publishes_an_entry_in_the_trace_of_the_handler_that_recorded_it():
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("handler") as span:
        entry = outbox_entry(ConferenceCancelled(conference_id="CONF-1", case_id="CASE-1", reason="plan_ended"),
                             at=datetime.now(UTC), cause="test")
        handler = span.get_span_context()
    assert entry["traceparent"].startswith(f"00-{handler.trace_id:032x}-{handler.span_id:016x}-")
    assert current_trace() == {}

    broker = RecordingBroker()
    relay = OutboxRelay(None, [], broker, source="/cpc/test", sweep=15)  # type: ignore[arg-type]
    asyncio.run(relay._publish(entry))
    headers = broker.published[0]["headers"]
    assert headers["traceparent"] == entry["traceparent"]
    assert headers["ce_id"] == entry["id"] and headers["ce_type"] == "cpc.ConferenceCancelled.v1"
    assert broker.trace_ids == [handler.trace_id]  # published inside the handler's trace context
    assert current_trace() == {}


def test_continued_without_a_traceparent_leaves_the_context_alone():
    with continued({"id": "x"}):
        assert current_trace() == {}


class FakeConsumer:
    def __init__(self, assigned: dict[Any, tuple[int, int | None]]) -> None:
        self.offsets = assigned  # partition -> (end offset, committed offset or None)

    def assignment(self) -> set[Any]:
        return set(self.offsets)

    async def end_offsets(self, partitions: list[Any]) -> dict[Any, int]:
        return {tp: self.offsets[tp][0] for tp in partitions}

    async def committed(self, tp: Any) -> int | None:
        return self.offsets[tp][1]

    async def beginning_offsets(self, partitions: list[Any]) -> dict[Any, int]:
        return {tp: 2 for tp in partitions}


class FakeSubscriber:
    consumer: FakeConsumer | None = None

    def __call__(self, handler: Any) -> Any:
        return handler


class FakeBroker:
    def __init__(self) -> None:
        self.subscribed = FakeSubscriber()

    def subscriber(self, *args: Any, **kwargs: Any) -> FakeSubscriber:
        return self.subscribed


def test_consumer_lag_is_end_less_committed_for_the_partitions_read_here_and_forgotten_when_they_go():
    from aiokafka import TopicPartition
    from cpc_shared.consumer import EventConsumer

    metrics, broker = Metrics(), FakeBroker()
    EventConsumer(broker, topic="cpc.rooms", group_id="cpc-scheduling.cpc.rooms", routes={},  # type: ignore[arg-type]
                  metrics=metrics)
    zero, one = TopicPartition("cpc.rooms", 0), TopicPartition("cpc.rooms", 1)
    broker.subscribed.consumer = FakeConsumer({zero: (10, 7), one: (5, None)})
    found = samples(asyncio.run(metrics.exposition()))
    group = ("group", "cpc-scheduling.cpc.rooms")
    assert found[("cpc_consumer_lag", (group, ("partition", "0"), ("topic", "cpc.rooms")))] == 3
    assert found[("cpc_consumer_lag", (group, ("partition", "1"), ("topic", "cpc.rooms")))] == 3  # from the start
    broker.subscribed.consumer = FakeConsumer({zero: (10, 10)})  # partition 1 went to another replica
    found = samples(asyncio.run(metrics.exposition()))
    assert found[("cpc_consumer_lag", (group, ("partition", "0"), ("topic", "cpc.rooms")))] == 0
    assert not [key for key in found if key[0] == "cpc_consumer_lag" and ("partition", "1") in key[1]]


def test_a_sweep_tells_the_outbox_backlog_and_the_age_of_its_oldest_event():
    from datetime import timedelta

    metrics = Metrics()
    relay = OutboxRelay(None, [], RecordingBroker(), source="/cpc/test", sweep=15,  # type: ignore[arg-type]
                        metrics=metrics)
    now = datetime.now(UTC)
    relay._measure("conferences", [{"outbox": [{"written_at": now - timedelta(seconds=30)}, {"written_at": now}]},
                                   {"outbox": [{"written_at": (now - timedelta(seconds=5)).replace(tzinfo=None)}]}])
    relay._measure("tasks", [])
    found = samples(asyncio.run(metrics.exposition()))
    assert found[("cpc_outbox_backlog_events", (("collection", "conferences"),))] == 3
    assert 30 <= found[("cpc_outbox_oldest_event_age_seconds", (("collection", "conferences"),))] < 40
    assert found[("cpc_outbox_backlog_events", (("collection", "tasks"),))] == 0
    assert found[("cpc_outbox_oldest_event_age_seconds", (("collection", "tasks"),))] == 0


def test_a_sweep_that_takes_long_waits_nine_times_its_length_so_sweeping_is_a_tenth_of_the_time():
    from cpc_shared.outbox import sweep_pause

    assert sweep_pause(15, 0.2) == 15  # quick: every 15 s
    assert sweep_pause(15, 1.5) == 15
    assert abs(sweep_pause(15, 4.0) - 36.0) < 1e-9  # a whole year's messages: 4 s sweeping, 36 s not
    assert abs(4.0 / (4.0 + sweep_pause(15, 4.0)) - 0.1) < 1e-9
