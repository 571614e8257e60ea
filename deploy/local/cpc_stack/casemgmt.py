"""Plays the council's case-management system: builds inbound events and publishes them as CloudEvents."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from cpc_shared.contracts import Topics
from cpc_shared.envelope import encode

SOURCE = "/casemgmt/demo"

# Approximate family locations around Gloucestershire's towns, with their postcode districts.
PLACES = [
    ("GL1 2TP", 51.8642, -2.2446), ("GL51 8HU", 51.8950, -2.1050), ("GL5 1HE", 51.7440, -2.2200),
    ("GL7 1AA", 51.7180, -1.9700), ("GL16 8RH", 51.7950, -2.6100), ("GL20 5AL", 51.9920, -2.1590),
]
AGENCIES = ["health", "police", "education", "housing", "probation"]


def conference_requested(case_number: int, *, basis: date | None = None, rng: random.Random | None = None,
                         **overrides: Any) -> dict[str, Any]:
    """A realistic initial-conference request: two parents, the social worker, a manager, three agencies."""
    rng = rng or random.Random(case_number)
    postcode, lat, lon = rng.choice(PLACES)
    case_id = f"CASE-{case_number:05d}"
    agencies = rng.sample(AGENCIES, 3)
    participants = [
        {"participant_id": f"{case_id}-P1", "role": "parent", "name": f"Parent One {case_number}",
         "email": f"parent1.{case_number}@family.example", "phone": "07700900001", "preferred_channel": "email"},
        {"participant_id": f"{case_id}-P2", "role": "parent", "name": f"Parent Two {case_number}",
         "email": f"parent2.{case_number}@family.example", "phone": "07700900002", "preferred_channel": "sms"},
        {"participant_id": f"{case_id}-SW", "role": "social_worker", "agency": "childrens_social_care",
         "name": "Social Worker", "email": f"sw.{case_number}@council.example"},
        {"participant_id": f"{case_id}-TM", "role": "team_manager", "agency": "childrens_social_care",
         "name": "Team Manager", "email": f"tm.{case_number}@council.example"},
    ] + [
        {"participant_id": f"{case_id}-{agency[:3].upper()}", "role": "professional", "agency": agency,
         "name": f"{agency.title()} Professional", "email": f"{agency}.{case_number}@partner.example"}
        for agency in agencies
    ]
    today = datetime.now(UTC).date()
    payload = {
        "request_id": f"REQ-{uuid.uuid4().hex[:12].upper()}",
        "case_id": case_id,
        "conference_type": "initial",
        "basis_date": (basis or today - timedelta(days=1)).isoformat(),
        "expected_birth_date": None,
        "previous_conference_id": None,
        "previous_conference_type": None,
        "children": [{"child_id": f"CH-{case_number:05d}"}],
        "family": {"postcode": postcode, "location": {"lat": lat, "lon": lon}, "language": "en",
                   "interpreter_needed": False, "accessibility_needs": rng.choice([[], [], ["step_free_access"]])},
        "participants": participants,
        "requested_at": datetime.now(UTC).isoformat(),
    }
    payload.update(overrides)
    return payload


def record(event_type: str, data: dict[str, Any], key: str, *, event_id: str | None = None
           ) -> tuple[list[tuple[str, bytes]], bytes, bytes]:
    headers, key_bytes, value = encode(
        id=event_id or str(uuid.uuid4()), type=event_type, source=SOURCE, time=datetime.now(UTC), key=key, data=data
    )
    return list(headers.items()), key_bytes, value


async def publish(bootstrap: str, items: list[tuple[str, dict[str, Any]]],
                  producer: AIOKafkaProducer | None = None) -> None:
    """Publish (type, data) pairs to the inbound topic, keyed by case id (with `producer`, if one is open)."""
    own = producer is None
    if own:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
        await producer.start()
    try:
        for event_type, data in items:
            headers, key, value = record(event_type, data, data["case_id"])
            await producer.send_and_wait(Topics.CASEMGMT, value, key=key, headers=headers)
    finally:
        if own:
            await producer.stop()
