"""What an operator sees of the running services: Prometheus metrics at /metrics, and one trace per request."""

from __future__ import annotations

import asyncio
import gzip
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from cpc_shared.contracts import Topics
from cpc_stack import casemgmt, services
from cpc_stack.observe import end_offsets
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import new_request

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(service: str) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{services.SERVICES[service]}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/plain")
        text = response.read().decode()
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def total(samples: Samples, name: str, **labels: str) -> float:
    return sum(value for (sample, its), value in samples.items()
               if sample == name and set(labels.items()) <= its)


def named(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for sample, labels in samples if sample == name]


async def test_every_service_serves_faststream_and_domain_metrics_that_move(running_services, watcher):
    before = {service: scrape(service) for service in services.SERVICES}
    request = new_request()
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", request)])
    assert await watcher.until(
        lambda: bool(watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])), 60)
    conference_id = watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])[0].data["conference_id"]
    assert await watcher.until(
        lambda: bool(watcher.of_type("cpc.NotificationSent.v1", conference_id=conference_id)), 60)
    # Tracing is not configured for these services: no trace context is made or sent.
    assert not [s for s in watcher.seen if s.key == conference_id and "traceparent" in s.headers]

    after = {service: scrape(service) for service in services.SERVICES}
    for service, samples in after.items():
        for name in ("faststream_received_messages_total", "faststream_received_processed_messages_total",
                     "faststream_published_messages_total", "cpc_consumer_lag", "cpc_outbox_backlog_events",
                     "cpc_outbox_oldest_event_age_seconds", "process_resident_memory_bytes"):
            assert named(samples, name), f"{service} has no {name}"
        assert all(labels["app_name"] == f"cpc-{service}"
                   for labels in named(samples, "faststream_received_messages_total"))
        assert all(value >= 0 for (name, _), value in samples.items() if name == "cpc_consumer_lag")
    # The request went into scheduling, and notifications told someone (published NotificationSent).
    received = "faststream_received_messages_total"
    assert total(after["scheduling"], received, handler=Topics.CASEMGMT) > \
        total(before["scheduling"], received, handler=Topics.CASEMGMT)
    published = "faststream_published_messages_total"
    assert total(after["notifications"], published, destination=Topics.NOTIFICATIONS) > \
        total(before["notifications"], published, destination=Topics.NOTIFICATIONS)
    assert named(after["scheduling"], "cpc_conferences_past_deadline_not_held")

    # Lag is told per partition the group reads, and agrees with what the broker says the group has committed.
    group = "cpc-scheduling.casemgmt.events"
    shown: dict[int, float] = {}
    told: dict[int, int] = {}
    for _ in range(30):
        shown = {int(labels["partition"]): value for (name, labels_set), value in scrape("scheduling").items()
                 if name == "cpc_consumer_lag" and (labels := dict(labels_set))["group"] == group}
        told = await committed_lag(running_services.kafka, group, Topics.CASEMGMT)
        if shown == told:
            break
        await asyncio.sleep(1)
    assert shown and shown == told


async def committed_lag(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """Each partition's end offset less the group's committed offset, as the broker tells them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    ends = await end_offsets(bootstrap, [topic])
    return {tp.partition: end - max(committed[tp].offset if tp in committed else 0, 0) for tp, end in ends.items()}


async def test_a_dead_lettered_event_is_counted_by_topic_and_class_of_reason(running_services, watcher):
    def dead_letters(reason: str) -> float:
        return total(scrape("scheduling"), "cpc_dead_letters_total", topic=Topics.CASEMGMT, reason=reason)

    malformed_before = dead_letters("malformed")
    valid = new_request()
    headers = [("ce_specversion", b"1.0"), ("ce_id", b"obs-bad-json"), ("ce_source", b"/casemgmt/test"),
               ("ce_type", b"casemgmt.ConferenceRequested.v1"), ("ce_time", datetime.now(UTC).isoformat().encode()),
               ("content-type", b"application/json")]
    producer = AIOKafkaProducer(bootstrap_servers=running_services.kafka, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(Topics.CASEMGMT, b'{"request_id": ', key=valid["case_id"].encode(), headers=headers)
    finally:
        await producer.stop()
    assert await watcher.until(
        lambda: any(s.topic == Topics.dead_letter(Topics.CASEMGMT) and s.key == valid["case_id"] for s in watcher.seen), 60)
    assert await watcher.until(lambda: dead_letters("malformed") >= malformed_before + 1, 10)
    labels = {dict(labels)["reason"] for labels in named(scrape("scheduling"), "cpc_dead_letters_total")}
    assert labels <= {"malformed", "unknown_type", "invalid_body", "rejected", "handler_error", "gave_up_waiting", "other"}


async def test_a_conference_requested_past_its_deadline_is_counted_until_held(running_services, watcher):
    def overdue() -> float:
        return total(scrape("scheduling"), "cpc_conferences_past_deadline_not_held")

    before = overdue()
    late = new_request(basis_date=(datetime.now(UTC).date() - timedelta(days=60)).isoformat())
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", late)])
    assert await watcher.until(
        lambda: bool(watcher.of_type("cpc.ConferenceScheduled.v1", request_id=late["request_id"])), 60)
    assert overdue() >= before + 1


# Traces ---------------------------------------------------------------------------------------------


class Receiver:
    """A tiny OTLP/HTTP trace receiver: keeps every span it is sent, with its service's name."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                export = ExportTraceServiceRequest()
                export.ParseFromString(body)
                receiver.take(export)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def take(self, export: ExportTraceServiceRequest) -> None:
        for resource_spans in export.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append({
                        "service": resource.get("service.name"), "name": span.name, "kind": span.kind,
                        "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                        "parent_id": span.parent_span_id.hex(),
                        "attributes": {a.key: str(getattr(a.value, a.value.WhichOneof("value") or "string_value"))
                                       for a in span.attributes},
                    })

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def traced_services(running_services, service_env) -> Iterator[Receiver]:
    """The four services again, exporting their spans to a receiver of the test's own; as before afterwards."""
    with Receiver() as receiver:
        services.stop()
        try:
            services.start(running_services, extra_env={
                **service_env, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "200"})
            yield receiver
        finally:
            services.stop()
            services.start(running_services, extra_env=service_env)


def trace_id(traceparent: str) -> str:
    version, trace, span, flags = traceparent.split("-")
    return trace


async def test_one_trace_runs_from_the_inbound_request_to_the_notification_sent(running_services, traced_services,
                                                                               watcher):
    receiver = traced_services
    request = new_request()
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", request)])
    assert await watcher.until(
        lambda: bool(watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])), 60)
    scheduled = watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])[0]
    conference_id = scheduled.data["conference_id"]
    assert await watcher.until(
        lambda: bool(watcher.of_type("cpc.NotificationSent.v1", conference_id=conference_id)), 60)
    sent = watcher.of_type("cpc.NotificationSent.v1", conference_id=conference_id)[0]

    # The trace context travels in a `traceparent` header beside the CloudEvents headers, through every outbox.
    assert "traceparent" in scheduled.headers and "traceparent" in sent.headers
    assert {"ce_id", "ce_type", "ce_source", "ce_specversion"} <= set(sent.headers)
    trace = trace_id(scheduled.headers["traceparent"])
    assert trace_id(sent.headers["traceparent"]) == trace
    booked = watcher.of_type("cpc.RoomBooked.v1", conference_id=conference_id)
    assert booked and trace_id(booked[0].headers["traceparent"]) == trace

    sent_span = sent.headers["traceparent"].split("-")[2]

    def spans() -> list[dict[str, Any]]:
        return [span for span in receiver.spans if span["trace_id"] == trace]

    def complete() -> bool:
        found = spans()
        return (any(s["service"] == "cpc-scheduling" and s["name"] == f"{Topics.CASEMGMT} process" for s in found)
                and any(s["service"] == "cpc-notifications" and s["parent_id"] == sent_span
                        and s["name"] == f"{Topics.NOTIFICATIONS} publish" for s in found))

    assert await watcher.until(complete, 30), sorted({(s["service"], s["name"]) for s in spans()})
    found = spans()
    assert {"cpc-scheduling", "cpc-rooms", "cpc-notifications"} <= {s["service"] for s in found}
    # The inbound event carried no trace: the trace starts where scheduling received it.
    roots = [s for s in found if not s["parent_id"]]
    assert [(s["service"], s["name"]) for s in roots] == [("cpc-scheduling", f"{Topics.CASEMGMT} create")]
    # The span whose context NotificationSent carries is notifications' own.
    assert any(s["span_id"] == sent_span and s["service"] == "cpc-notifications" for s in found)
    # No personal data in any span's attributes.
    personal = {p["email"] for p in request["participants"]} | {p["name"] for p in request["participants"]}
    assert not [value for s in found for value in s["attributes"].values() if any(item in value for item in personal)]
