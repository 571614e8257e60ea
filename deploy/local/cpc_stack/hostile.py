"""Hostile inbound records for `casemgmt.events`: what a broken or malicious case-management system could send.

`records(seed, count)` yields `count` records, the same for the same seed, drawn evenly from the kinds in `KINDS`
(broken JSON and wrong encodings, huge and deeply nested bodies, wrong types, impossible dates, operator keys,
control characters and markup, unknown versions, garbled CloudEvents headers, events about conferences and cases
nobody has heard of, oversized lists). Every one must be dead-lettered by the services with a reason.

Each record's Kafka key is its id (`HOSTILE-<seed>-<n>`), and so is its `ce_id` where it has one, so its dead
letter can be found. Every identifier the records carry holds `HOSTILE`, and every hostile string one of the
`MARKERS`: none may ever appear in what the services publish.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cpc_stack import casemgmt

REQUESTED = "casemgmt.ConferenceRequested.v1"
OUTCOME = "casemgmt.ConferenceOutcomeRecorded.v1"
DETAILS = "casemgmt.CaseDetailsChanged.v1"
CANCELLATION = "casemgmt.ConferenceCancellationRequested.v1"

# What must never be published: markup, operators, control and formatting characters, and the records' ids.
MARKERS = ("HOSTILE", "<script", "<img", "javascript:", "$where", "$ne", "$gt", "{{", "\x00", "\x1b", "\x07",
           "\u202e", "\r\n")
HOSTILE_STRINGS = [
    "<script>alert('HOSTILE')</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)", "$where",
    "$ne", "{{7*7}}", "NUL\x00HOSTILE", "ESC\x1b[31mHOSTILE", "BELL\x07", "\u202eHOSTILE", "CRLF\r\nBcc: x@y.z",
    "a.b.$gt", "../../etc/passwd\x00", "HOSTILE\ud800", "\u0000", "\t\n\v\f\r", "\x7f\x80\x9f",
]


@dataclass(frozen=True)
class Record:
    id: str
    kind: str
    headers: list[tuple[str, bytes]]
    key: bytes
    value: bytes


def _headers(draw: _Draw, event_type: str, **changes: bytes | None) -> list[tuple[str, bytes]]:
    headers: dict[str, bytes | None] = {
        "ce_specversion": b"1.0", "ce_id": draw.id.encode(), "ce_source": b"/casemgmt/hostile",
        "ce_type": event_type.encode(), "ce_time": draw.now.isoformat().encode(),
        "content-type": b"application/json"}
    headers.update(changes)
    return [(name, value) for name, value in headers.items() if value is not None]


def _json(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8", errors="surrogatepass")


class _Draw:
    """One record's worth of choices, from the seeded generator."""

    def __init__(self, rng: random.Random, record_id: str, now: datetime) -> None:
        self.rng = rng
        self.id = record_id
        self.now = now

    def request(self) -> dict[str, Any]:
        """A valid request about a case of its own (whose ids hold HOSTILE): each kind breaks one thing in it."""
        number = self.rng.randrange(10_000, 99_999)
        request = casemgmt.conference_requested(number, rng=self.rng, basis=self.now.date() - timedelta(days=1),
                                                requested_at=self.now.isoformat())
        case_id = f"CASE-{self.id}"
        for participant in request["participants"]:
            participant["participant_id"] = participant["participant_id"].replace(f"CASE-{number:05d}", case_id)
        request.update(case_id=case_id, request_id=f"REQ-{self.id}", children=[{"child_id": f"CH-{self.id}"}])
        return request

    def hostile(self) -> str:
        return self.rng.choice(HOSTILE_STRINGS)

    def path(self, body: dict[str, Any]) -> tuple[Any, Any]:
        """A random place in `body`: (container, key or index)."""
        places: list[tuple[Any, Any]] = []

        def walk(node: Any) -> None:
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in items:
                places.append((node, key))
                if isinstance(value, (dict, list)):
                    walk(value)

        walk(body)
        return self.rng.choice(places)


def _plain(draw: _Draw, value: bytes, event_type: str = REQUESTED, **changes: bytes | None) -> Record:
    return Record(draw.id, "", _headers(draw, event_type, **changes), draw.id.encode(), value)


# The kinds ---------------------------------------------------------------------------------------------------

def not_json(draw: _Draw) -> Record:
    text = _json(draw.request())
    value = draw.rng.choice([
        text[: draw.rng.randrange(1, len(text) - 1)],  # cut short
        text.replace(b":", b"=", 1), b"{'single': 'quotes'}", b"<xml>HOSTILE</xml>", b"null", b"[]", b'"string"',
        b"42", b"{,}", b"{\"a\":}", bytes(draw.rng.randrange(256) for _ in range(draw.rng.randrange(1, 200))),
        b"", b"\x00" * 16, b'{"a": 1}{"b": 2}', b'{"request_id": "HOSTILE" /* comment */}',
    ])
    return _plain(draw, value)


def wrong_encoding(draw: _Draw) -> Record:
    text = json.dumps(dict(draw.request(), reason="Zażółć gęślą jaźń HOSTILE"), ensure_ascii=False)
    encoding = draw.rng.choice(["latin-1", "utf-16", "utf-32", "cp1250"])
    return _plain(draw, text.encode(encoding, errors="replace"))


def huge(draw: _Draw) -> Record:
    """A body over the services' limit but under the broker's (~1 MB): a long string, or many fields."""
    body = draw.request()
    size = draw.rng.randrange(560_000, 990_000)
    if draw.rng.random() < 0.5:
        body["family"]["postcode"] = "HOSTILE" + "x" * size
    else:
        body.update({f"field{i:06d}": "HOSTILE" for i in range(size // 26)})  # 26 bytes each
    return _plain(draw, _json(body))


def deeply_nested(draw: _Draw) -> Record:
    levels = draw.rng.choice([33, 100, 1_000, 10_000])
    opening, closing = draw.rng.choice([("[", "]"), ('{"a":', "}")])
    body = _json(draw.request())
    nest = (opening * levels + "1" + closing * levels).encode()
    return _plain(draw, body[:-1] + b', "extra": ' + nest + b"}")


# Values each field can never take (pydantic's lax mode turns some others into valid ones: 0 into a date,
# "yes" into True; these it never does).
WRONG: dict[str, list[Any]] = {
    "request_id": [None, 0, 10**30, 1.5, True, "", [], {}, ["HOSTILE"]],
    "case_id": [None, 7, False, "", [], {"HOSTILE": 1}],
    "conference_type": [None, 0, "HOSTILE", "Initial", ["initial"], {}],
    "basis_date": [None, "HOSTILE", [], {}, True, "2026-06-01T10:00:00+01:00"],
    "requested_at": [None, "HOSTILE", [], {}, True, "2026-06-01"],
    "family": [None, "HOSTILE", [], 7, {"location": {"lat": "HOSTILE", "lon": 0}}, {"interpreter_needed": "HOSTILE"},
               {"location": {"lat": 91, "lon": 0}}, {"accessibility_needs": "step_free_access"}],
    "participants": [None, "HOSTILE", {}, [], [7], [None], [{"participant_id": ["HOSTILE"], "role": "parent"}],
                     [{"participant_id": "P1", "role": 7}], [{"participant_id": "P1", "role": "HOSTILE"}],
                     [{"participant_id": "P1", "role": "parent"}, {"participant_id": "P1", "role": "carer"}],
                     [{"participant_id": "P1", "role": "professional", "agency": "HOSTILE"}]],
    "children": ["HOSTILE", {}, [7], [{"child_id": 7}], [{}], None],
    "previous_conference_type": [7, "HOSTILE", []],
    "expected_birth_date": [7.5, "HOSTILE", {}],
}


def wrong_type(draw: _Draw) -> Record:
    body = draw.request()
    field = draw.rng.choice(list(WRONG))
    body[field] = draw.rng.choice(WRONG[field])
    return _plain(draw, _json(body))


def impossible_date(draw: _Draw) -> Record:
    body = draw.request()
    field = draw.rng.choice(["basis_date", "requested_at", "expected_birth_date"])
    dates = ["2026-02-30", "2026-13-01", "2026-00-10", "0000-00-00", "2025-02-29", "9999-99-99", "yesterday",
             "31/12/2026", "2026-1-1x", "HOSTILE", "2026-06-31"]
    times = ["2026-02-29T25:61:00Z", "2026-06-01T12:00:00", "2026-06-01T24:00:01+00:00", "2026-06-01T12:00:00+25:00",
             "HOSTILE", "1e308", "2026-06-31T10:00:00Z"]
    if field == "requested_at":
        body[field] = draw.rng.choice(times)
    else:
        body[field] = draw.rng.choice(dates)
        if field == "expected_birth_date":
            body["conference_type"] = "pre_birth"
    return _plain(draw, _json(body))


def operator_keys(draw: _Draw) -> Record:
    body = draw.request()
    container, key = draw.path(body)
    injected = draw.rng.choice([{"$where": "sleep(10000) || HOSTILE"}, {"$ne": None}, {"$gt": ""}, {"a.b": "HOSTILE"},
                                {"$set": {"role": "chair"}}, {"participants.$": "HOSTILE"}, {"$regex": ".*"}])
    if isinstance(container, dict) and draw.rng.random() < 0.5:
        container.update(injected)  # beside the field
    else:
        container[key] = injected  # in place of the value
    return _plain(draw, _json(body))


def hostile_text(draw: _Draw) -> Record:
    """Control characters, NUL, markup and operators in the strings that travel on: ids, codes, names."""
    body = draw.request()
    participant = draw.rng.choice(body["participants"])
    targets: list[tuple[dict[str, Any], str]] = [
        (body, "request_id"), (body, "case_id"), (participant, "participant_id"), (body["children"][0], "child_id"),
        (participant, "name"), (participant, "email"), (participant, "phone"), (body["family"], "language"),
        (body["family"], "postcode"), (body, "previous_conference_id"), (body["family"], "accessibility_needs"),
    ]
    container, field = draw.rng.choice(targets)
    hostile = draw.hostile()
    if field in ("name", "phone", "accessibility_needs") and not any(
            ord(c) < 32 or c in "<>\u202e\x7f\x80\x9f\ud800" for c in hostile):
        hostile = "HOSTILE<b>" + hostile  # free text may hold '$' or '{': only markup and control characters are bad
    if field == "email":
        hostile = draw.rng.choice(["sam@family.example\r\nBcc: HOSTILE@x.y", "<script>@HOSTILE", "sam @HOSTILE",
                                   "HOSTILE\x00@x.y", "HOSTILE\u202e@x.y"])
    container[field] = [hostile] if field == "accessibility_needs" else hostile
    return _plain(draw, _json(body))


def unknown_version(draw: _Draw) -> Record:
    event_type = draw.rng.choice([
        "casemgmt.ConferenceRequested.v2", "casemgmt.ConferenceRequested.v99", "casemgmt.ConferenceRequested",
        "casemgmt.ConferenceOutcomeRecorded.v0", "casemgmt.CaseDetailsChanged.V1", "casemgmt.HOSTILE.v1",
        "cpc.ConferenceScheduled.v1", "<script>HOSTILE</script>", "casemgmt.ConferenceRequested.v1\x00",
        "casemgmt.ConferenceRequested.v1 ", "$where",
    ])
    return _plain(draw, _json(draw.request()), event_type)


def bad_headers(draw: _Draw) -> Record:
    value = _json(draw.request())
    change: dict[str, bytes | None] = draw.rng.choice([
        {"ce_specversion": None, "ce_id": None, "ce_source": None, "ce_type": None, "ce_time": None,
         "content-type": None},
        {"ce_specversion": b"0.3"}, {"ce_specversion": b"HOSTILE"}, {"ce_specversion": None},
        {"ce_source": None}, {"ce_type": None}, {"ce_source": b""},
        {"content-type": b"text/html"}, {"content-type": b"application/xml"}, {"content-type": b"text/plain<script>"},
        {"content-type": b"application/cloudevents+json"}, {"content-type": b"\xff\xfe HOSTILE"},
        {"ce_time": b"not a time HOSTILE"}, {"ce_time": b"2026-02-30T10:00:00Z"},
        {"ce_type": b"\xff\xfe\xfd"}, {"ce_type": b"casemgmt.ConferenceRequested.v1" * 50},
    ])
    return _plain(draw, value, **change)


def about_nobody(draw: _Draw) -> Record:
    """Well-formed events about a conference or case the services have never heard of."""
    case_id, n = f"CASE-{draw.id}", uuid.UUID(int=draw.rng.getrandbits(128)).hex[:12]
    event_type, body = draw.rng.choice([
        (OUTCOME, {"conference_id": f"CPC-{n.upper()}", "case_id": case_id, "outcome": "plan_started",
                   "held_on": (draw.now.date() - timedelta(days=1)).isoformat(), "quorate": True}),
        (CANCELLATION, {"case_id": case_id, "conference_id": None, "reason": "HOSTILE: for a case nobody knows"}),
        (CANCELLATION, {"case_id": case_id, "conference_id": f"CPC-{n.upper()}", "reason": "HOSTILE"}),
        (DETAILS, {"case_id": case_id, "family": {"postcode": "GL1 2TP", "language": "en"}}),
        (DETAILS, {"case_id": case_id, "participants": [{"participant_id": f"{case_id}-P1", "role": "parent",
                                                         "name": "HOSTILE Parent", "email": "p@family.example"}]}),
    ])
    return _plain(draw, _json(body), event_type)


def oversized_list(draw: _Draw) -> Record:
    body = draw.request()
    many = draw.rng.choice([201, 1_000, 10_000])
    which = draw.rng.choice(["participants", "children", "accessibility_needs"])
    if which == "participants":
        body["participants"] = [{"participant_id": f"H{i}", "role": "professional", "agency": "other"}
                                for i in range(many)]
    elif which == "children":
        body["children"] = [{"child_id": f"H{i}"} for i in range(many)]
    else:
        body["family"]["accessibility_needs"] = ["step_free_access"] * many
    return _plain(draw, _json(body))


KINDS: dict[str, Callable[[_Draw], Record]] = {
    "not_json": not_json, "wrong_encoding": wrong_encoding, "huge": huge, "deeply_nested": deeply_nested,
    "wrong_type": wrong_type, "impossible_date": impossible_date, "operator_keys": operator_keys,
    "hostile_text": hostile_text, "unknown_version": unknown_version, "bad_headers": bad_headers,
    "about_nobody": about_nobody, "oversized_list": oversized_list,
}
RARE = {"huge": 0.15}  # ~1 MB each: a few are enough
DEFAULT_SEED = 2026


def records(seed: int, count: int, now: datetime | None = None) -> Iterator[Record]:
    """`count` hostile records, the kinds in turn (the rare ones less often), the same for the same seed and `now`."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    kinds = list(KINDS)
    for n in range(count):
        kind = kinds[n % len(kinds)]
        if kind in RARE and rng.random() > RARE[kind]:
            kind = "wrong_type"
        draw = _Draw(rng, f"HOSTILE-{seed}-{n:05d}", now)
        record = KINDS[kind](draw)
        yield Record(record.id, kind, record.headers, record.key, record.value)

