"""Settings every service reads from its environment (twelve-factor), documented field by field."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cpc_shared.clock import Clock, OffsetClock, OffsetFileClock, SystemClock
from cpc_shared.profile import Profile, load_profile


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CPC_", extra="ignore")

    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:39092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "CPC_KAFKA_BOOTSTRAP_SERVERS"),
        description="Comma-separated Kafka bootstrap servers.",
        examples=["kafka-0.kafka:9092"],
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="How the services talk to Kafka: in the clear (the local stack), over TLS, with a SASL "
        "login, or both (a Strimzi listener with `tls: true` and `authentication: scram-sha-512`: SASL_SSL).",
        examples=["PLAINTEXT", "SASL_SSL"])
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = Field(
        "SCRAM-SHA-512", description="The SASL mechanism (SASL_PLAINTEXT, SASL_SSL); Strimzi's KafkaUser is SCRAM-SHA-512.",
        examples=["SCRAM-SHA-512"])
    kafka_sasl_username: str | None = Field(
        None, description="The SASL user name (the KafkaUser's name under Strimzi).", examples=["cpc-scheduling"])
    kafka_sasl_password: SecretStr | None = Field(
        None, description="The SASL password (the `password` key of the Secret Strimzi writes for the KafkaUser).")
    kafka_ssl_cafile: str | None = Field(
        None, description="PEM file of the CA that signed the brokers' certificates (SSL, SASL_SSL); without it, the "
        "system's CAs.", examples=["/etc/cpc/kafka-ca/ca.crt"])
    kafka_ssl_certfile: str | None = Field(
        None, description="PEM client certificate, for mutual TLS (SSL).", examples=["/etc/cpc/kafka-user/user.crt"])
    kafka_ssl_keyfile: str | None = Field(
        None, description="PEM private key of the client certificate.", examples=["/etc/cpc/kafka-user/user.key"])
    kafka_create_topics: bool = Field(
        True, description="Whether each consumer creates its topic at start if missing (FastStream's default). Turn it off "
        "where the topics are provisioned elsewhere (Strimzi's KafkaTopic resources): the services' Kafka users may not "
        "create topics.", examples=[False])
    mongodb_url: str = Field(
        "mongodb://127.0.0.1:37017/",
        validation_alias=AliasChoices("MONGODB_URL", "CPC_MONGODB_URL"),
        description="MongoDB connection string (MongoDB, or FerretDB in development).",
        examples=["mongodb://mongo-0.mongo:27017/?replicaSet=rs0"],
    )
    store_semantics: Literal["mongodb", "ferretdb1"] = Field(
        "mongodb", description="The document store's write semantics: MongoDB's, or FerretDB 1.x's (the local "
        "stack's: writes to one document take turns under a lock, conditions are checked on a read by id).",
        examples=["mongodb", "ferretdb1"])
    database_prefix: str = Field(
        "cpc", description="Each service owns the database `<prefix>_<service>`.", examples=["cpc", "cpc_test"]
    )
    http_host: str = Field("127.0.0.1", description="Address of the health and API endpoints.", examples=["0.0.0.0"])
    http_port: int = Field(8100, description="Port of the health and API endpoints.", examples=[8101])
    log_level: str = Field("INFO", description="Log level.", examples=["INFO", "DEBUG"])
    closure_days: list[date] = Field(
        default_factory=list,
        description="Council closure days that are not working days (JSON list of dates).",
        examples=[["2026-12-29", "2026-12-30"]],
    )
    clock_start: datetime | None = Field(
        None,
        description="Run on a simulated clock starting at this instant instead of the system clock.",
        examples=["2026-11-02T08:00:00+00:00"],
    )
    clock_speed: float = Field(1.0, description="How many times faster than real time the simulated clock runs.")
    clock_offset_file: str | None = Field(
        None, description="Read a time offset (seconds) from this file: processes sharing it move in time together.",
        examples=[".stack/clock-offset"],
    )
    retry_attempts: int = Field(5, description="In-process attempts at a transient fault before redelivery.")
    retry_backoff_seconds: float = Field(0.2, description="First backoff between attempts; doubles each time.")
    wait_for_missing_seconds: float = Field(
        300.0, gt=0, description="How long an event waits for another it depends on (e.g. a conference not yet "
        "known here) before it is dead-lettered with the reason, to replay later.")
    outbox_sweep_seconds: float = Field(
        15.0, gt=0, description="How often the outbox relay looks through every document for unsent events (it is "
        "told of each write as it happens; the sweep finds what a crashed replica left).")

    @model_validator(mode="after")
    def _kafka_login_complete(self) -> ServiceSettings:
        if self.kafka_security_protocol.startswith("SASL_") and not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError(f"CPC_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs CPC_KAFKA_SASL_USERNAME "
                             "and CPC_KAFKA_SASL_PASSWORD")
        if bool(self.kafka_ssl_certfile) != bool(self.kafka_ssl_keyfile):
            raise ValueError("CPC_KAFKA_SSL_CERTFILE and CPC_KAFKA_SSL_KEYFILE go together")
        return self

    def database_name(self, service: str) -> str:
        return f"{self.database_prefix}_{service}"

    def clock(self) -> Clock:
        if self.clock_offset_file:
            return OffsetFileClock(self.clock_offset_file)
        if self.clock_start is None:
            return SystemClock()
        return OffsetClock(self.clock_start, self.clock_speed)


class ProfiledSettings(ServiceSettings):
    profile_path: str = Field(
        "profiles/gloucestershire-2022.yaml",
        description="The council profile (offices, rooms, chairs, policies), relative to the working directory.",
        examples=["profiles/essex-2020.yaml", "/etc/cpc/profile.yaml"],
    )

    def profile(self) -> Profile:
        """The council profile, with the closure days set in the environment added to its own: every service
        reads it here, so every service counts the same working days."""
        return load_profile(self.profile_path).with_closure_days(self.closure_days)


class StaffApiSettings(ProfiledSettings):
    staff_token_secret: SecretStr = Field(
        description="Key that verifies staff and agency bearer tokens (HS256); the identity provider signs with it.",
        examples=["a long random string from the secret store"],
    )


class FamilySettings(ProfiledSettings):
    """For a service that holds what a family gave us (contact details, their own words) or their personal link."""

    contact_key: SecretStr = Field(
        description="Fernet key that encrypts contact details and the family's own words at rest (32 url-safe "
        "base64 bytes).", examples=["made by `Fernet.generate_key()`, kept in the secret store"])
    family_link_key: SecretStr = Field(
        description="Fernet key that signs and encrypts the family's personal links to their form (notifications "
        "writes them, reports reads them).", examples=["made by `Fernet.generate_key()`, kept in the secret store"])
