"""AsyncAPI documents: each service's, served at /asyncapi.json, and the catalogue partners read."""

from __future__ import annotations

import json

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel

from cpc_shared.contracts.catalogue import CATALOGUE, Topics

ENVELOPE_NOTE = (
    "CloudEvents 1.0, Kafka binding, binary mode: headers ce_specversion, ce_id, ce_source, ce_type (the event's "
    "type), ce_time and content-type application/json; the body is the payload below. "
)


def document_events(broker: KafkaBroker, models: list[type[BaseModel]]) -> None:
    """Add each event, with its payload schema, to the broker's AsyncAPI document."""
    for model in models:
        topic = getattr(model, "topic", Topics.CASEMGMT)
        broker.publisher(
            topic,
            title=f"{topic}:{model.type}",  # type: ignore[attr-defined]
            schema=model,
            description=ENVELOPE_NOTE + f"ce_type {model.type}. " + " ".join((model.__doc__ or "").split()),  # type: ignore[attr-defined]
            include_in_schema=True,
        )


def catalogue() -> dict:
    """Every event on every topic: the inbound contract and everything the services publish."""
    broker = KafkaBroker("kafka:9092")
    document_events(broker, list(CATALOGUE.values()))
    spec = AsyncAPI(
        broker,
        title="Child protection conferences: event catalogue",
        version="1",
        description="Inbound events from the case-management system on casemgmt.events, and the events the "
        "four services publish on cpc.*. Keys: case_id inbound, conference_id on cpc.*. No event on cpc.* "
        "carries a name, address, e-mail, phone number or free text about a family.",
    )
    return json.loads(spec.to_specification().to_json())
