"""The CloudEvents 1.0 Kafka binding in binary mode: `ce_*` headers, JSON body, key = aggregate id."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

_JSON = JSONFormat()
REQUIRED_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type")
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
        raise BadEvent(f"content-type must be application/json, not {content_type.decode(errors='replace')[:50]}")
    try:
        body = json.loads(value) if value else None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BadEvent(f"body is not valid JSON ({error.msg if hasattr(error, 'msg') else 'not UTF-8'})") from None
    if not isinstance(body, dict):
        raise BadEvent("body must be a JSON object")
    try:
        event = ce_kafka.from_binary(ce_kafka.KafkaMessage(headers=headers, key=key, value=value), _JSON, CloudEvent)
    except Exception as error:  # the SDK raises several types for missing or malformed attributes
        raise BadEvent(f"invalid CloudEvents attributes ({type(error).__name__}: {str(error)[:200]})") from None
    return Envelope(
        id=event.get_id(),
        type=event.get_type(),
        source=event.get_source(),
        time=event.get_time(),
        subject=event.get_subject(),
        key=key.decode(errors="replace") if key else None,
        data=body,
    )
