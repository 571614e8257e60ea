"""Bad input on the inbound topic goes to its dead-letter topic with the reason; the next valid event still flows."""

from __future__ import annotations

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
