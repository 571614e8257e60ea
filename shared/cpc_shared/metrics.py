"""What an operator watches, in Prometheus's text format at `/metrics` on each service's HTTP port.

Beside FastStream's own figures (messages received, processed, published, their durations and failures,
from its Prometheus middleware), each service exposes:

- `cpc_dead_letters_total{topic, reason}`: events sent to a dead-letter topic, by the topic they were read
  from and a fixed class of reason (never the reason's text, which may quote the input);
- `cpc_consumer_lag{group, topic, partition}`: records not yet handled (the partition's end offset less the
  group's committed offset), for the partitions this process reads, read when scraped;
- `cpc_outbox_backlog_events{collection}` and `cpc_outbox_oldest_event_age_seconds{collection}`: events
  recorded but not yet published, as the outbox relay's last sweep found them;
- figures a service adds with `Metrics.gauge` (scheduling: conferences past their statutory deadline not yet
  held), computed when scraped.

Labels hold only topics, partitions, groups, collections and fixed classes: no identifier, name or text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from cpc_shared.logging import get_logger

log = get_logger(__name__)

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
# Why an event was dead-lettered, as a label: one of these, whatever the reason's text says.
DEAD_LETTER_REASONS: Final = ("malformed", "unknown_type", "invalid_body", "rejected", "handler_error", "gave_up_waiting")
SCRAPE_BUDGET_SECONDS = 3.0  # each figure computed at a scrape gets at most this long; else its last value stays

Refresher = Callable[[], Awaitable[None]]


class Metrics:
    """One service process's metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.dead_letters = Counter(
            "cpc_dead_letters", "Events sent to a dead-letter topic, by source topic and class of reason.",
            ["topic", "reason"], registry=self.registry)
        self.consumer_lag = Gauge(
            "cpc_consumer_lag", "Records not yet handled: end offset less committed offset, per partition read here.",
            ["group", "topic", "partition"], registry=self.registry)
        self.outbox_backlog = Gauge(
            "cpc_outbox_backlog_events", "Events recorded but not yet published, at the outbox relay's last sweep.",
            ["collection"], registry=self.registry)
        self.outbox_oldest = Gauge(
            "cpc_outbox_oldest_event_age_seconds", "Age of the oldest event not yet published, at the last sweep.",
            ["collection"], registry=self.registry)
        self._refreshers: list[tuple[str, Refresher]] = []

    def dead_lettered(self, topic: str, reason: str) -> None:
        self.dead_letters.labels(topic=topic, reason=reason if reason in DEAD_LETTER_REASONS else "other").inc()

    def expect_dead_letters(self, topic: str) -> None:
        """Show a topic's dead-letter counts from the start, at zero, so a rate over them is defined."""
        for reason in DEAD_LETTER_REASONS:
            self.dead_letters.labels(topic=topic, reason=reason)

    def on_scrape(self, name: str, refresh: Refresher) -> None:
        """Run `refresh` (which sets some gauges) before each exposition."""
        self._refreshers.append((name, refresh))

    def gauge(self, name: str, description: str, measure: Callable[[], Awaitable[float]]) -> Gauge:
        """A gauge whose value `measure` computes when scraped (it must be cheap)."""
        gauge = Gauge(name, description, registry=self.registry)

        async def refresh() -> None:
            gauge.set(await measure())

        self.on_scrape(name, refresh)
        return gauge

    async def exposition(self) -> bytes:
        """The text exposition, after the figures computed at a scrape are refreshed (each within a budget)."""
        results = await asyncio.gather(
            *(asyncio.wait_for(refresh(), SCRAPE_BUDGET_SECONDS) for _, refresh in self._refreshers),
            return_exceptions=True)
        for (name, _), result in zip(self._refreshers, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("metric_refresh_failed", metric=name, error=type(result).__name__)
        return generate_latest(self.registry)
