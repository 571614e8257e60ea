"""The Kafka broker every service uses: a producer that waits for all replicas and never duplicates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaBroker

from cpc_shared.settings import ServiceSettings


def make_broker(settings: ServiceSettings, client_id: str, middlewares: Sequence[Any] = ()) -> KafkaBroker:
    # FastStream passes aiokafka's weaker defaults (acks=1, no idempotence) unless told otherwise.
    return KafkaBroker(
        settings.kafka_bootstrap_servers.split(","),
        acks="all",
        enable_idempotence=True,
        client_id=client_id,
        middlewares=tuple(middlewares),
    )
