"""Bad input on the inbound topic goes to its dead-letter topic with the reason; the next valid event still flows."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from cpc_shared.contracts import Topics
from cpc_stack import casemgmt

pytestmark = pytest.mark.e2e


def headers_for(event_type: str) -> list[tuple[str, bytes]]:
    return [("ce_specversion", b"1.0"), ("ce_id", str(uuid.uuid4()).encode()), ("ce_source", b"/casemgmt/test"),
            ("ce_type", event_type.encode()), ("ce_time", datetime.now(UTC).isoformat().encode()),
            ("content-type", b"application/json")]


async def test_malformed_events_are_dead_lettered_with_a_reason_and_the_valid_one_after_them_is_processed(
        running_services, watcher):
    case_number = random.randrange(100_000, 999_999)
    valid = casemgmt.conference_requested(case_number)
    key = valid["case_id"].encode()
    unknown_type = dict(valid, conference_type="emergency")
    impossible_date = dict(valid, basis_date="2026-02-30")
    missing_fields = {k: v for k, v in valid.items() if k not in ("participants", "family")}
    bad = [
        ("unparseable JSON", headers_for("casemgmt.ConferenceRequested.v1"), b'{"request_id": "REQ-1", '),
        ("unknown ce_type", headers_for("casemgmt.ConferenceExploded.v1"), json.dumps(valid).encode()),
        ("unknown conference_type", headers_for("casemgmt.ConferenceRequested.v1"), json.dumps(unknown_type).encode()),
        ("impossible date", headers_for("casemgmt.ConferenceRequested.v1"), json.dumps(impossible_date).encode()),
        ("missing fields", headers_for("casemgmt.ConferenceRequested.v1"), json.dumps(missing_fields).encode()),
        ("no headers", [], json.dumps(valid).encode()),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=running_services.kafka, acks="all")
    await producer.start()
    try:
        for _, headers, value in bad:
            await producer.send_and_wait(Topics.CASEMGMT, value, key=key, headers=headers)
        vh, vk, vv = casemgmt.record("casemgmt.ConferenceRequested.v1", valid, valid["case_id"])
        await producer.send_and_wait(Topics.CASEMGMT, vv, key=vk, headers=vh)
    finally:
        await producer.stop()

    def dead_letters():
        return [s for s in watcher.seen if s.topic == "casemgmt.events.dlq" and s.key == valid["case_id"]]

    assert await watcher.until(lambda: len(dead_letters()) >= len(bad), timeout=60), [
        d.headers.get("dlq_reason") for d in dead_letters()]
    assert await watcher.until(
        lambda: bool(watcher.of_type("cpc.ConferenceScheduled.v1", request_id=valid["request_id"])), timeout=60)
    await watcher.until(lambda: False, timeout=2)

    reasons = [d.headers["dlq_reason"] for d in dead_letters()]
    assert len(reasons) == len(bad), "each bad event is dead-lettered once"
    assert "not valid JSON" in reasons[0]
    assert "unknown ce_type" in reasons[1]
    assert "conference_type" in reasons[2]
    assert "basis_date" in reasons[3]
    assert "participants" in reasons[4] and "family" in reasons[4]
    assert "missing CloudEvents headers" in reasons[5]
    for dead in dead_letters():
        assert dead.headers["dlq_topic"] == Topics.CASEMGMT
        assert dead.headers["dlq_consumer"].startswith("cpc-scheduling")
        # The reason never echoes what the family's record said.
        assert valid["participants"][0]["name"] not in dead.headers["dlq_reason"]


async def test_an_outcome_for_a_conference_never_scheduled_is_dead_lettered_and_holds_no_partition(
        running_services, watcher):
    """A real case, a conference id it never had (mistyped, or hostile): scheduling dead-letters the outcome with
    the reason; partners, which waits for a conference it has not read yet, sees that it has read every conference
    scheduled before the outcome came, and moves on instead of holding the case's partition for minutes."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    request = casemgmt.conference_requested(random.randrange(100_000, 999_999))
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", request)])
    assert await watcher.until(
        lambda: bool(watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])), timeout=60)
    outcome = {"conference_id": "CPC-NEVERSCHEDULED", "case_id": request["case_id"], "held_on": "2026-11-20",
               "outcome": "plan_started", "quorate": True}
    headers, key, value = casemgmt.record("casemgmt.ConferenceOutcomeRecorded.v1", outcome, request["case_id"])
    producer = AIOKafkaProducer(bootstrap_servers=running_services.kafka, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(Topics.CASEMGMT, value, key=key, headers=headers)
    finally:
        await producer.stop()

    def dead_letter() -> list:
        return [s for s in watcher.seen if s.topic == "casemgmt.events.dlq" and s.key == request["case_id"]]

    assert await watcher.until(lambda: bool(dead_letter()), timeout=60)
    assert "no conference CPC-NEVERSCHEDULED" in dead_letter()[0].headers["dlq_reason"]
    partners = AIOKafkaConsumer(bootstrap_servers=running_services.kafka, group_id="cpc-partners.casemgmt.events",
                                enable_auto_commit=False)
    await partners.start()
    try:
        async def partners_past_it() -> bool:
            done = await partners.committed(TopicPartition(Topics.CASEMGMT, sent.partition))
            return done is not None and done > sent.offset

        for _ in range(60):  # it gave up after 300 s before
            if await partners_past_it():
                break
            await asyncio.sleep(1)
        assert await partners_past_it()
    finally:
        await partners.stop()
