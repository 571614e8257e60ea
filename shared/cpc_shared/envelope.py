"""The CloudEvents 1.0 Kafka binding in binary mode: `ce_*` headers, JSON body, key = aggregate id."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

_JSON = JSONFormat()
REQUIRED_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type")
# No inbound event comes near these (a request with 200 participants is ~60 KB, 4 levels deep); anything beyond
# them is refused before it is parsed further (Kafka's own limit is ~1 MB a record).
MAX_BODY_BYTES = 512 * 1024
MAX_DEPTH = 32
MAX_HEADER_BYTES = 1024
_NAMESPACE = uuid.UUID("8d1f5a52-4c1e-4d0e-9a63-3b1f0d6c2a10")


class BadEvent(Exception):
    """Input that can never be processed: it goes to the dead-letter topic with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def event_id(*parts: object) -> str:
    """A deterministic event id: the same cause always yields the same id, so redelivery dedupes."""
    return str(uuid.uuid5(_NAMESPACE, "|".join(str(p) for p in parts)))


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    source: str
    time: datetime | None
    subject: str | None
    key: str | None
    data: dict[str, Any]


def encode(
    *, id: str, type: str, source: str, time: datetime, key: str, data: dict[str, Any], subject: str | None = None
) -> tuple[dict[str, bytes], bytes, bytes]:
    """Headers, key and value of one Kafka record."""
    attributes = {"id": id, "type": type, "source": source, "time": time, "datacontenttype": "application/json"}
    if subject:
        attributes["subject"] = subject
    message = ce_kafka.to_binary(CloudEvent(attributes=attributes, data=data), _JSON)
    return dict(message.headers), key.encode(), message.value


def parse_json(value: bytes) -> Any:
    """A JSON body, or BadEvent: too large, not UTF-8, not JSON, nested too deeply, or holding what no JSON text
    should (NaN, a number of thousands of digits, a lone surrogate). Never a crash, whatever the bytes."""
    if len(value) > MAX_BODY_BYTES:
        raise BadEvent(f"body is larger than {MAX_BODY_BYTES // 1024} KB ({len(value)} bytes)")
    if not value:
        return None
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        raise BadEvent("body is not valid JSON (not UTF-8)") from None
    if _nesting(text) > MAX_DEPTH:  # before json.loads, which recurses once a level
        raise BadEvent(f"body is nested more than {MAX_DEPTH} levels deep")
    try:
        body = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise BadEvent(f"body is not valid JSON ({error.msg})") from None
    except (ValueError, RecursionError):  # NaN or Infinity; an integer of thousands of digits
        raise BadEvent("body is not valid JSON (a number out of range)") from None
    _check_content(body)
    return body


def _no_constant(name: str) -> Any:
    raise ValueError(name)


_TOKENS = re.compile(r'\\.|["\[\]{}]')


def _nesting(text: str) -> int:
    """How deeply arrays and objects nest in `text` (brackets inside strings do not count), in one linear pass."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0
    depth = deepest = 0
    in_string = False
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token == '"':
            in_string = not in_string
        elif in_string or token[0] == "\\":
            continue
        elif token in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        else:
            depth -= 1
    return deepest


def _check_content(body: Any) -> None:
    """Every string and key must be encodable as UTF-8 (a JSON escape can make a lone surrogate, which no store or
    producer can write), and no key may be what a document store reads as an operator or a path: one starting
    with `$`, or holding `.` or NUL. No event has such a field, so one is an attempt at injection."""
    stack = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in item:
                if key.startswith("$") or "." in key or "\x00" in key:
                    raise BadEvent("body has a field name starting with '$' or holding '.' or NUL")
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise BadEvent("body is not valid JSON (a string with a lone surrogate)") from None


def printable(value: bytes) -> str:
    """A header value fit for a dead-letter reason: at most 50 characters, those a media type or an event type
    is made of (never markup, control characters or anything else a sender chose)."""
    text = value.decode("ascii", errors="replace")[:50]
    return "".join(c if c.isascii() and (c.isalnum() or c in "/.+-_") else "?" for c in text)


def decode(headers: dict[str, bytes], key: bytes | None, value: bytes) -> Envelope:
    """Parse a binary-mode CloudEvent; anything that is not one raises BadEvent with the reason."""
    if not any(name.lower().startswith("ce_") for name in headers):
        raise BadEvent("missing CloudEvents headers (ce_id, ce_type, ce_source, ce_specversion)")
    absent = [name for name in REQUIRED_HEADERS if not headers.get(name)]
    if absent:
        raise BadEvent(f"missing CloudEvents attributes: {', '.join(absent)}")
    if headers.get("ce_specversion") != b"1.0":
        raise BadEvent("ce_specversion must be 1.0")
    content_type = headers.get("content-type", b"application/json").split(b";")[0].strip()
    if content_type != b"application/json":
        raise BadEvent(f"content-type must be application/json, not {printable(content_type)}")
    for name in REQUIRED_HEADERS:
        if len(headers[name]) > MAX_HEADER_BYTES:
            raise BadEvent(f"CloudEvents attribute {name} is longer than {MAX_HEADER_BYTES} bytes")
    body = parse_json(value)
    if not isinstance(body, dict):
        raise BadEvent("body must be a JSON object")
    try:
        event = ce_kafka.from_binary(ce_kafka.KafkaMessage(headers=headers, key=key, value=value), _JSON, CloudEvent)
    except Exception as error:  # the SDK raises several types for missing or malformed attributes
        raise BadEvent(f"invalid CloudEvents attributes ({type(error).__name__})") from None
    return Envelope(
        id=event.get_id(),
        type=event.get_type(),
        source=event.get_source(),
        time=event.get_time(),
        subject=event.get_subject(),
        key=key.decode(errors="replace") if key else None,
        data=body,
    )
