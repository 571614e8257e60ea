"""Distributed traces: OpenTelemetry spans for every record consumed and published, exported by OTLP.

Tracing is on when the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is
set, and `OTEL_SDK_DISABLED` is not `true`: spans go by OTLP over HTTP (protobuf) in batches
(`OTEL_BSP_SCHEDULE_DELAY`, milliseconds), under the service name `OTEL_SERVICE_NAME` (default `cpc-<service>`).
Otherwise nothing is set up: no span is made, nothing is exported.

FastStream's middleware reads the W3C `traceparent` header of each record consumed and writes one on each
record published. An event a handler records goes out later, from the outbox relay: the entry keeps the
handler's `traceparent` (`current_trace`), and the relay publishes inside that context (`continued`), so
the trace runs on through the outbox from one service to the next. CloudEvents' distributed tracing
extension names the same headers; the `ce_*` headers and the body are untouched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context, trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
TRACE_FIELDS = ("traceparent", "tracestate")


def tracing_configured(environ: Mapping[str, str] = os.environ) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def configure_tracing(service: str, environ: Mapping[str, str] = os.environ) -> Any | None:
    """The tracer provider exporting this service's spans, or None when tracing is not configured."""
    if not tracing_configured(environ):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = environ.get("OTEL_SERVICE_NAME") or f"cpc-{service}"
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def broker_middleware(provider: Any | None) -> list[Any]:
    """FastStream's tracing middleware when tracing is on; none otherwise."""
    if provider is None:
        return []
    from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware

    return [KafkaTelemetryMiddleware(tracer_provider=provider)]


def current_trace() -> dict[str, str]:
    """The W3C trace context of the span in progress (`traceparent`, maybe `tracestate`), or {} if none."""
    if not trace.get_current_span().get_span_context().is_valid:
        return {}
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return {field: carrier[field] for field in TRACE_FIELDS if carrier.get(field)}


@contextmanager
def continued(fields: Mapping[str, Any]) -> Iterator[None]:
    """Run the block inside the trace context `fields` carry (as `current_trace` gave them); as is, if none."""
    carrier = {field: str(fields[field]) for field in TRACE_FIELDS if fields.get(field)}
    if "traceparent" not in carrier:
        yield
        return
    token = context.attach(_PROPAGATOR.extract(carrier))
    try:
        yield
    finally:
        context.detach(token)
