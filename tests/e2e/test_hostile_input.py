"""Hostile input at volume: a thousand generated bad records (cpc_stack.hostile: broken JSON, wrong encodings, huge
and deeply nested bodies, wrong types, impossible dates, operator keys, control characters and markup, unknown
versions, garbled headers, events about nobody, oversized lists) interleaved with valid requests on the inbound
topic. Every bad one is dead-lettered once, with its reason; every service stays ready; every valid request is
scheduled; nothing hostile is published on any cpc.* or partner.* topic."""

from __future__ import annotations

import asyncio
import os
import random

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from cpc_shared.contracts import Topics
from cpc_stack import casemgmt, hostile, services

pytestmark = pytest.mark.e2e

SEED = int(os.environ.get("CPC_HOSTILE_SEED", hostile.DEFAULT_SEED))
BAD = 1_000
VALID = 25


async def test_a_thousand_hostile_records_are_dead_lettered_and_the_valid_ones_between_them_are_scheduled(
        running_services, watcher):
    print(f"hostile input: seed {SEED} (CPC_HOSTILE_SEED={SEED} repeats it)")
    bad = list(hostile.records(SEED, BAD))
    numbers = random.Random(SEED).sample(range(100_000, 999_999), VALID)
    valid = [casemgmt.conference_requested(number) for number in numbers]
    every = BAD // VALID

    # A 5 MB body never reaches the services: the broker refuses it (its limit is ~1 MB a record).
    large = AIOKafkaProducer(bootstrap_servers=running_services.kafka, acks="all", max_request_size=6 * 1024 * 1024)
    await large.start()
    try:
        five_mb = b'{"request_id": "' + b"x" * (5 * 1024 * 1024) + b'"}'
        with pytest.raises(KafkaError):
            await large.send_and_wait(Topics.CASEMGMT, five_mb, key=b"HOSTILE-5MB", headers=[("ce_id", b"HOSTILE-5MB")])
    finally:
        await large.stop()

    producer = AIOKafkaProducer(bootstrap_servers=running_services.kafka, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sent = []
        for n, record in enumerate(bad):
            sent.append(await producer.send(Topics.CASEMGMT, record.value, key=record.key, headers=record.headers))
            if n % every == every // 2 and valid[n // every:]:
                request = valid[n // every]
                headers, key, value = casemgmt.record(hostile.REQUESTED, request, request["case_id"])
                sent.append(await producer.send(Topics.CASEMGMT, value, key=key, headers=headers))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()

    ids = {record.id for record in bad}

    def dead_letters() -> dict[str, list]:
        found: dict[str, list] = {}
        for seen in watcher.seen:
            if seen.topic == Topics.dead_letter(Topics.CASEMGMT) and seen.key in ids:
                found.setdefault(seen.key, []).append(seen)
        return found

    def scheduled() -> set[str]:
        return {s.data["request_id"] for s in watcher.of_type("cpc.ConferenceScheduled.v1")}

    wanted = {request["request_id"] for request in valid}
    done = await watcher.until(lambda: len(dead_letters()) == len(ids) and wanted <= scheduled(), timeout=300)
    missing = sorted(ids - set(dead_letters()))
    kinds = {record.id: record.kind for record in bad}
    assert done, (f"{len(missing)} not dead-lettered, e.g. {[(i, kinds[i]) for i in missing[:10]]}; "
                  f"{len(wanted - scheduled())} valid requests not scheduled")
    await watcher.until(lambda: False, timeout=3)  # anything more the services would publish

    # Every service is still up and ready.
    assert [name for name in services.SERVICES if not services.is_ready(name)] == []

    # Each bad record dead-lettered once, by the inbound topic's consumer, with a reason that echoes nothing.
    for record_id, letters in dead_letters().items():
        assert len(letters) == 1, (record_id, kinds[record_id], [d.headers.get("dlq_reason") for d in letters])
        headers = letters[0].headers
        reason = headers.get("dlq_reason", "")
        assert reason, (record_id, kinds[record_id])
        assert headers["dlq_consumer"].startswith("cpc-scheduling") and headers["dlq_topic"] == Topics.CASEMGMT
        assert not reason.startswith(("handler error", "gave up waiting")), (kinds[record_id], reason)
        assert [m for m in hostile.MARKERS if m != "HOSTILE" and m in reason] == [], (kinds[record_id], reason)
        if "ce_id" in headers and kinds[record_id] != "bad_headers":
            assert headers["ce_id"] == record_id

    # Nothing hostile in any event published: bodies, keys and headers.
    outbound = [s for s in watcher.seen if s.topic.startswith(("cpc.", "partner.")) and not s.topic.endswith(".dlq")]
    assert outbound, "the valid requests' events were watched"
    for seen in outbound:
        texts = [seen.key or "", *seen.headers, *seen.headers.values(), *strings(seen.data)]
        leaked = {marker for marker in hostile.MARKERS for text in texts if marker in text}
        assert leaked == set(), (seen.topic, seen.type, leaked)


def strings(data: object) -> list[str]:
    """Every string in a decoded body, keys too (a body that is not JSON: its bytes as text)."""
    if isinstance(data, bytes):
        return [data.decode(errors="replace")]
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [text for key, value in data.items() for text in (str(key), *strings(value))]
    if isinstance(data, list):
        return [text for item in data for text in strings(item)]
    return []
