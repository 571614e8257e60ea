"""The hostile-input generator (cpc_stack.hostile) covers every kind, is reproducible, and each record it makes is
refused by the inbound checks with a reason that does not echo it: offline, without the stack."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from cpc_shared.consumer import validation_reason
from cpc_shared.contracts.catalogue import CATALOGUE
from cpc_shared.envelope import BadEvent, decode, printable
from cpc_stack import casemgmt, hostile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

INBOUND = {name: model for name, model in CATALOGUE.items() if name.startswith("casemgmt.")}


def verdict(headers: list[tuple[str, bytes]], key: bytes, value: bytes) -> str | None:
    """What scheduling, the inbound topic's main consumer, decides before any handler runs: the reason it
    dead-letters the record, or None if the record reaches a handler."""
    try:
        envelope = decode(dict(headers), key, value)
    except BadEvent as bad:
        return bad.reason
    model = INBOUND.get(envelope.type)
    if model is None:
        return f"unknown ce_type {printable(envelope.type.encode())}"
    try:
        model.model_validate(envelope.data)
    except ValidationError as error:
        return validation_reason(error)
    return None


def test_every_kind_is_made_and_the_same_seed_makes_the_same_records():
    now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    made = list(hostile.records(seed=7, count=240, now=now))
    assert set(Counter(r.kind for r in made)) == set(hostile.KINDS)
    assert len({r.id for r in made}) == len(made) and all(r.key == r.id.encode() for r in made)
    assert max(len(r.value) for r in made) < 1_000_000  # each fits in a Kafka record (the broker's limit: ~1 MB)
    assert made == list(hostile.records(seed=7, count=240, now=now))
    assert [r.value for r in made] != [r.value for r in hostile.records(seed=8, count=240, now=now)]


def test_every_hostile_record_is_refused_with_a_reason_that_does_not_echo_it():
    for record in hostile.records(seed=hostile.DEFAULT_SEED, count=1_000):
        reason = verdict(record.headers, record.key, record.value)
        if record.kind == "about_nobody":
            assert reason is None, (record.kind, reason)  # well-formed: the services refuse it for what it says
            continue
        assert reason, (record.kind, record.value[:300])
        for marker in hostile.MARKERS:
            if marker != "HOSTILE":
                assert marker not in reason, (record.kind, reason)
        assert "CASE-HOSTILE" not in reason or record.kind == "about_nobody"


# Beyond the seeded generator: hypothesis puts any text, any JSON value, into any field of a valid request.
# Whatever it is, the inbound checks either refuse it with a reason or accept it, never crash; and whatever they
# accept has ids and codes that carry no markup, operator, or control character onwards.
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=4), max_leaves=12)
FIELDS = ["request_id", "case_id", "conference_type", "basis_date", "previous_conference_id", "requested_at",
          "family.postcode", "family.language", "family.accessibility_needs", "participants.0.participant_id",
          "participants.0.name", "participants.0.email", "participants.0.phone", "children.0.child_id", "extra"]


def _put(body: dict, path: str, value: object) -> None:
    *parents, last = path.split(".")
    node: object = body
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]  # type: ignore[index]
    node[int(last) if isinstance(node, list) else last] = value  # type: ignore[index]


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), value=json_values | st.text(alphabet=st.characters(codec="utf-8")))
def test_any_value_in_any_field_is_refused_with_a_reason_or_accepted_clean(field, value):
    body = casemgmt.conference_requested(12345)
    _put(body, field, value)
    headers, key, _ = casemgmt.record(hostile.REQUESTED, {"case_id": "C"}, "C")
    reason = verdict(headers, key, json.dumps(body).encode("utf-8", errors="surrogatepass"))
    if reason is None:
        accepted = CATALOGUE[hostile.REQUESTED].model_validate(body)
        travelling = [accepted.request_id, accepted.case_id, accepted.previous_conference_id or "",  # type: ignore[attr-defined]
                      accepted.family.postcode or "", accepted.family.language,  # type: ignore[attr-defined]
                      *(p.participant_id for p in accepted.participants),  # type: ignore[attr-defined]
                      *(c.child_id for c in accepted.children)]  # type: ignore[attr-defined]
        for text in travelling:
            assert not any(c in text for c in "<>${}\x00\r\n\x1b"), (field, text)  # a dot is escaped where ids are keys
            assert text.isprintable()
        names = [p.name or "" for p in accepted.participants]  # type: ignore[attr-defined]
        assert all(name.isprintable() and "<" not in name for name in names)
