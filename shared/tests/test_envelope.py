"""The CloudEvents binary envelope, and what counts as bad input."""

import json
from datetime import UTC, datetime

import pytest
from cpc_shared.consumer import validation_reason
from cpc_shared.contracts import ConferenceRequested
from cpc_shared.envelope import BadEvent, decode, encode, event_id
from pydantic import ValidationError


def test_an_event_survives_the_round_trip_through_kafka_headers():
    headers, key, value = encode(id="e-1", type="cpc.Thing.v1", source="/cpc/test",
                                 time=datetime(2026, 11, 20, 15, 4, 5, tzinfo=UTC), key="CPC-1", data={"a": 1})
    assert headers["ce_specversion"] == b"1.0" and headers["content-type"] == b"application/json"
    envelope = decode(headers, key, value)
    assert (envelope.id, envelope.type, envelope.key, envelope.data) == ("e-1", "cpc.Thing.v1", "CPC-1", {"a": 1})
    assert envelope.time == datetime(2026, 11, 20, 15, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(("headers", "value", "reason"), [
    ({}, b"{}", "missing CloudEvents headers"),
    ({"ce_specversion": b"0.3", "ce_id": b"1", "ce_type": b"t", "ce_source": b"/s"}, b"{}", "specversion"),
    ({"ce_specversion": b"1.0", "ce_id": b"1", "ce_type": b"t", "ce_source": b"/s"}, b"{nope", "not valid JSON"),
    ({"ce_specversion": b"1.0", "ce_id": b"1", "ce_type": b"t", "ce_source": b"/s"}, b"[1, 2]", "JSON object"),
    ({"ce_specversion": b"1.0", "ce_type": b"t", "ce_source": b"/s"}, b"{}", "missing CloudEvents attributes: ce_id"),
])
def test_what_is_not_a_cloud_event_is_refused_with_a_reason(headers, value, reason):
    with pytest.raises(BadEvent, match=reason):
        decode(headers, b"k", value)


def test_event_ids_are_deterministic_for_the_same_cause():
    assert event_id("a", 1) == event_id("a", 1) != event_id("a", 2)


def test_a_validation_reason_names_the_field_but_never_echoes_personal_data():
    body = {"request_id": "R", "case_id": "C", "conference_type": "initial", "basis_date": "2026-02-30",
            "family": {}, "participants": [{"participant_id": "P", "role": "uncle", "name": "Jane Doe"}],
            "requested_at": "2026-11-20T15:04:05+00:00"}
    with pytest.raises(ValidationError) as error:
        ConferenceRequested.model_validate(json.loads(json.dumps(body)))
    reason = validation_reason(error.value)
    assert "basis_date" in reason and "participants.0.role" in reason
    assert "Jane" not in reason and "uncle" not in reason


CE = {"ce_specversion": b"1.0", "ce_id": b"1", "ce_type": b"t", "ce_source": b"/s"}


@pytest.mark.parametrize(("value", "reason"), [
    (b"[" * 10_000 + b"]" * 10_000, "nested more than 32 levels"),
    (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "nested more than 32 levels"),
    (b'{"a": "' + b"x" * (600 * 1024) + b'"}', "larger than 512 KB"),
    (b'{"a": ' + b"1" * 5000 + b"}", "number out of range"),
    (b'{"a": NaN}', "number out of range"),
    (b'{"a": -Infinity}', "number out of range"),
    (b'{"a": "\\ud800"}', "lone surrogate"),
    (b'{"\\udc00": 1}', "lone surrogate"),
    ('{"a": "é"}'.encode("latin-1"), "not UTF-8"),
    ('{"a": 1}'.encode("utf-16"), "not UTF-8"),
    (b"\xef\xbb\xbf{}", "not valid JSON"),
    (b'{"a": "' + b'\\"' * 100_000 + b"}", "not valid JSON"),
])
def test_hostile_bodies_are_refused_with_a_reason_never_a_crash(value, reason):
    with pytest.raises(BadEvent, match=reason):
        decode(CE, b"k", value)


def test_brackets_inside_strings_do_not_count_as_nesting():
    body = {"a": "[[[[{{{{" * 100, "b": '\\"[' * 50, "c": [[[[1]]]]}
    assert decode(CE, b"k", json.dumps(body).encode()).data == body


def test_a_hostile_header_is_refused_without_being_echoed():
    with pytest.raises(BadEvent) as refused:
        decode({**CE, "content-type": b"text/html\x00<script>"}, b"k", b"{}")
    assert "<script>" not in refused.value.reason and "\x00" not in refused.value.reason
    with pytest.raises(BadEvent, match="longer than 1024 bytes"):
        decode({**CE, "ce_type": b"t" * 2000}, b"k", b"{}")


@pytest.mark.parametrize("body", [
    {"$where": "sleep(1000)"}, {"family": {"postcode": {"$ne": None}}}, {"participants": [{"a.b": 1}]},
    {"x": [[{"$gt": ""}]]}, {"nul\u0000key": 1},
])
def test_operator_or_path_keys_anywhere_are_refused(body):
    with pytest.raises(BadEvent, match="field name starting with"):
        decode(CE, b"k", json.dumps(body).encode())
