"""The Kafka broker every service uses: a producer that waits for all replicas and never duplicates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from cpc_shared.settings import ServiceSettings


def kafka_security(settings: ServiceSettings) -> BaseSecurity | None:
    """The TLS and SASL settings (CPC_KAFKA_SECURITY_PROTOCOL and friends) as FastStream's security object;
    None for PLAINTEXT, the local stack's."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    ssl_context = _ssl_context(settings)
    if protocol == "SSL":
        return BaseSecurity(ssl_context=ssl_context, use_ssl=True)
    username = settings.kafka_sasl_username or ""
    password = settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
    use_ssl = protocol == "SASL_SSL"
    if settings.kafka_sasl_mechanism == "SCRAM-SHA-256":
        return SASLScram256(username, password, ssl_context=ssl_context, use_ssl=use_ssl)
    if settings.kafka_sasl_mechanism == "PLAIN":
        return SASLPlaintext(username, password, ssl_context=ssl_context, use_ssl=use_ssl)
    return SASLScram512(username, password, ssl_context=ssl_context, use_ssl=use_ssl)


def _ssl_context(settings: ServiceSettings) -> Any:
    if settings.kafka_security_protocol not in ("SSL", "SASL_SSL"):
        return None
    from aiokafka.helpers import create_ssl_context

    return create_ssl_context(
        cafile=settings.kafka_ssl_cafile, certfile=settings.kafka_ssl_certfile, keyfile=settings.kafka_ssl_keyfile
    )


def kafka_client_options(settings: ServiceSettings) -> dict[str, Any]:
    """The same connection settings as keyword arguments of aiokafka's own clients (for reading offsets)."""
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap_servers,
                               "security_protocol": settings.kafka_security_protocol,
                               "ssl_context": _ssl_context(settings)}
    if settings.kafka_security_protocol.startswith("SASL_"):
        options |= {"sasl_mechanism": settings.kafka_sasl_mechanism,
                    "sasl_plain_username": settings.kafka_sasl_username,
                    "sasl_plain_password": settings.kafka_sasl_password.get_secret_value()
                    if settings.kafka_sasl_password else None}
    return options


def make_broker(settings: ServiceSettings, client_id: str, middlewares: Sequence[Any] = ()) -> KafkaBroker:
    # FastStream passes aiokafka's weaker defaults (acks=1, no idempotence) unless told otherwise.
    return KafkaBroker(
        settings.kafka_bootstrap_servers.split(","),
        acks="all",
        enable_idempotence=True,
        client_id=client_id,
        middlewares=tuple(middlewares),
        security=kafka_security(settings),
        allow_auto_create_topics=settings.kafka_create_topics,
    )
