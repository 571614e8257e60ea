"""Kafka security from the environment: PLAINTEXT by default, TLS and SASL/SCRAM as Strimzi's listeners want them."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest
from cpc_shared.broker import kafka_security, make_broker
from cpc_shared.settings import ServiceSettings
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faststream.security import SASLScram256, SASLScram512
from pydantic import ValidationError

ENV = [name for name in ServiceSettings.model_fields]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for field in ENV:
        monkeypatch.delenv(f"CPC_{field.upper()}", raising=False)


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> ServiceSettings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return ServiceSettings()


def consumer_kwargs(settings: ServiceSettings) -> dict:
    """What the broker hands aiokafka for each consumer it builds."""
    broker = make_broker(settings, client_id="cpc-test")
    return dict(broker.config.broker_config.builder.keywords)


def self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_plaintext_by_default_as_before(monkeypatch):
    plain = settings(monkeypatch)
    assert plain.kafka_security_protocol == "PLAINTEXT"
    assert kafka_security(plain) is None
    kwargs = consumer_kwargs(plain)
    assert "security_protocol" not in kwargs and "sasl_mechanism" not in kwargs  # aiokafka's default: PLAINTEXT
    assert plain.kafka_create_topics is True
    assert make_broker(plain, "cpc-test").config.broker_config.allow_auto_create_topics is True


def test_sasl_ssl_with_scram_512_and_the_cluster_ca(monkeypatch, tmp_path):
    ca, _ = self_signed(tmp_path, "cluster-ca")
    strimzi = settings(monkeypatch, CPC_KAFKA_SECURITY_PROTOCOL="SASL_SSL", CPC_KAFKA_SASL_USERNAME="cpc-rooms",
                       CPC_KAFKA_SASL_PASSWORD="s3cret", CPC_KAFKA_SSL_CAFILE=str(ca))
    security = kafka_security(strimzi)
    assert isinstance(security, SASLScram512)
    assert security.use_ssl and security.ssl_context is not None
    assert [cert["subject"] for cert in security.ssl_context.get_ca_certs()] == [((("commonName", "cluster-ca"),),)]
    assert security.ssl_context.verify_mode == ssl.CERT_REQUIRED and security.ssl_context.check_hostname
    kwargs = consumer_kwargs(strimzi)
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (kwargs["sasl_plain_username"], kwargs["sasl_plain_password"]) == ("cpc-rooms", "s3cret")
    assert "s3cret" not in repr(strimzi)  # the password stays out of logs and tracebacks


def test_sasl_plaintext_and_another_mechanism(monkeypatch):
    scram = settings(monkeypatch, CPC_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT", CPC_KAFKA_SASL_MECHANISM="SCRAM-SHA-256",
                     CPC_KAFKA_SASL_USERNAME="u", CPC_KAFKA_SASL_PASSWORD="p")
    security = kafka_security(scram)
    assert isinstance(security, SASLScram256) and not security.use_ssl
    assert consumer_kwargs(scram)["security_protocol"] == "SASL_PLAINTEXT"
    assert consumer_kwargs(scram)["sasl_mechanism"] == "SCRAM-SHA-256"


def test_mutual_tls_loads_the_client_certificate(monkeypatch, tmp_path):
    ca, _ = self_signed(tmp_path, "cluster-ca")
    cert, key = self_signed(tmp_path, "cpc-reports")
    mutual = settings(monkeypatch, CPC_KAFKA_SECURITY_PROTOCOL="SSL", CPC_KAFKA_SSL_CAFILE=str(ca),
                      CPC_KAFKA_SSL_CERTFILE=str(cert), CPC_KAFKA_SSL_KEYFILE=str(key))
    kwargs = consumer_kwargs(mutual)
    assert kwargs["security_protocol"] == "SSL"
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)
    _, other_key = self_signed(tmp_path, "someone-else")
    wrong = settings(monkeypatch, CPC_KAFKA_SSL_KEYFILE=str(other_key))
    with pytest.raises(ssl.SSLError):  # the key must match the certificate: a mistake shows at start, not later
        kafka_security(wrong)


@pytest.mark.parametrize("env", [
    {"CPC_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"},
    {"CPC_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "CPC_KAFKA_SASL_USERNAME": "u"},
    {"CPC_KAFKA_SECURITY_PROTOCOL": "SSL", "CPC_KAFKA_SSL_CERTFILE": "/etc/user.crt"},
    {"CPC_KAFKA_SECURITY_PROTOCOL": "TLS"},
    {"CPC_KAFKA_SASL_MECHANISM": "GSSAPI"},
])
def test_incomplete_or_unknown_settings_stop_the_service_at_start(monkeypatch, env):
    with pytest.raises(ValidationError):
        settings(monkeypatch, **env)


def test_topics_left_to_strimzi(monkeypatch):
    provisioned = settings(monkeypatch, CPC_KAFKA_CREATE_TOPICS="false")
    assert provisioned.kafka_create_topics is False
    assert make_broker(provisioned, "cpc-test").config.broker_config.allow_auto_create_topics is False
