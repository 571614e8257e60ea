"""Latency under a steady load and at full speed: from a conference request entering the inbound topic to its
ConferenceScheduled, and to the family's invitation (NotificationSent to a parent).

Requests are published at `rate` a second for `seconds` (or as fast as the producer goes); each one's start is
the moment it was handed to Kafka, each answer's the broker's timestamp of the event that answers it. A request
the planner cannot place (ConferenceDeadlineAtRisk with no ConferenceScheduled) is counted apart.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aiokafka import AIOKafkaProducer
from cpc_shared.contracts import Topics

from cpc_stack import casemgmt, infra, services
from cpc_stack.observe import Watcher, skip_to_end

TOPICS = ["cpc.conferences", "cpc.notifications"]


@dataclass
class Latencies:
    label: str
    requests: int
    seconds: float
    scheduled: list[float] = field(default_factory=list)  # seconds, request -> ConferenceScheduled
    invited: list[float] = field(default_factory=list)  # seconds, request -> the first parent's invitation
    unplaced: int = 0
    unanswered: int = 0

    def row(self, values: list[float]) -> str:
        if not values:
            return "-"
        q = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else [values[0]] * 99
        return f"{q[49]:.2f} / {q[94]:.2f} / {q[98]:.2f}"

    @property
    def throughput(self) -> float:
        return len(self.scheduled) / self.seconds if self.seconds else 0.0


async def measure(endpoints: infra.Endpoints, label: str, requests: int, rate: float | None, basis: date,
                  settle_for: float = 120.0) -> Latencies:
    """Publish `requests` requests at `rate` a second (None: as fast as they go) and wait for their answers."""
    rng = random.Random(2022)
    made = [casemgmt.conference_requested(rng.randrange(100_000, 999_999), basis=basis, rng=random.Random(n))
            for n in range(requests)]
    sent_at: dict[str, float] = {}
    async with Watcher(endpoints.kafka, TOPICS) as watcher:
        producer = AIOKafkaProducer(bootstrap_servers=endpoints.kafka, acks="all", enable_idempotence=True)
        await producer.start()
        began = time.time()
        try:
            for n, request in enumerate(made):
                if rate:
                    await asyncio.sleep(max(0.0, began + n / rate - time.time()))
                headers, key, value = casemgmt.record("casemgmt.ConferenceRequested.v1", request, request["case_id"])
                sent_at[request["request_id"]] = time.time()
                await producer.send(Topics.CASEMGMT, value, key=key, headers=headers)
            await producer.flush()
        finally:
            await producer.stop()
        published = time.time() - began

        def answered() -> int:
            scheduled, unplaced = _answers(made, watcher)
            return len(scheduled) + len(unplaced)

        await watcher.until(lambda: answered() >= requests, settle_for)
        await watcher.until(lambda: False, 5)  # the last invitations
        return _figures(label, made, sent_at, watcher, published)


def _answers(made: list[dict[str, Any]], watcher: Watcher) -> tuple[dict[str, Any], set[str]]:
    """This phase's requests answered: ConferenceScheduled by request id, and the cases of those the planner could
    not place (ConferenceDeadlineAtRisk, never scheduled). A late conference is told at risk as it is scheduled:
    it counts once, as scheduled."""
    requests = {request["request_id"]: request["case_id"] for request in made}
    scheduled = {s.data["request_id"]: s for s in watcher.of_type("cpc.ConferenceScheduled.v1")
                 if s.data.get("request_id") in requests}
    at_risk = {s.data["case_id"] for s in watcher.of_type("cpc.ConferenceDeadlineAtRisk.v1")}
    return scheduled, (at_risk & set(requests.values())) - {requests[r] for r in scheduled}


def _figures(label: str, made: list[dict[str, Any]], sent_at: dict[str, float], watcher: Watcher,
             published: float) -> Latencies:
    result = Latencies(label, len(made), published)
    scheduled, unplaced = _answers(made, watcher)
    first_invitation: dict[tuple[str, str], float] = {}
    for seen in watcher.of_type("cpc.NotificationSent.v1", purpose="invitation"):
        key = (seen.data["conference_id"], seen.data["recipient_id"])
        first_invitation.setdefault(key, (seen.published or 0) / 1000)
    last_answer = 0.0
    for request in made:
        start, answer = sent_at[request["request_id"]], scheduled.get(request["request_id"])
        if answer is None:
            result.unanswered += 1
            continue
        at = (answer.published or 0) / 1000
        last_answer = max(last_answer, at)
        result.scheduled.append(at - start)
        parent = next(p["participant_id"] for p in request["participants"] if p["role"] == "parent")
        invited = first_invitation.get((answer.data["conference_id"], parent))
        if invited is not None:
            result.invited.append(invited - start)
    result.unplaced = len(unplaced)
    result.unanswered -= min(result.unanswered, result.unplaced)
    if last_answer:
        result.seconds = last_answer - min(sent_at.values())
    return result


def run(endpoints: infra.Endpoints, profile_path: str, basis: date, steady_rate: float, steady_seconds: float,
        burst: int) -> tuple[list[Latencies], dict[str, float]]:
    """A fresh set of services on their own databases: a steady phase, then a burst at full speed; with them, each
    service's peak resident memory (MB) over both."""
    prefix = f"cpc_latency_{uuid.uuid4().hex[:8]}"
    services.stop()
    asyncio.run(skip_to_end(endpoints.kafka))
    services.start(endpoints, extra_env={"CPC_DATABASE_PREFIX": prefix, "CPC_PROFILE_PATH": profile_path})
    try:
        steady = asyncio.run(measure(endpoints, f"steady {steady_rate:g}/s", int(steady_rate * steady_seconds),
                                     steady_rate, basis))
        full = asyncio.run(measure(endpoints, "full speed", burst, None, basis))
        return [steady, full], services.peak_resident_mb()
    finally:
        services.stop()
