"""The image and the Kubernetes chart, checked offline: lint, schemas, and what the chart grants against the code.

The topics and ACLs the chart renders are compared with what each service really subscribes to and publishes
(its broker, built in-process from its app.py) and with the catalogue's topics."""

from __future__ import annotations

import importlib

import pytest
from cpc_shared.contracts import Topics
from cpc_stack import k8s
from cryptography.fernet import Fernet

SERVICES = ["scheduling", "rooms", "reports", "notifications"]


@pytest.fixture(scope="module")
def production() -> list[dict]:
    return k8s.render("production")


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [doc for doc in docs if doc["kind"] == kind]


def test_dockerfile_and_chart_pass_hadolint_helm_lint_and_strict_schemas():
    report = k8s.check()
    assert any(line.startswith("hadolint") for line in report.checked)
    assert sum("kubeconform -strict" in line for line in report.checked) == 2


def test_an_unknown_field_or_kind_fails_the_schema_check(tmp_path):
    """The schema check can fail: a misspelt field, or a kind with no schema in the repository."""
    kubeconform = k8s.go_tool(*k8s.KUBECONFORM)
    locations = ["-schema-location", str(k8s.SCHEMAS / "{{ .ResourceKind }}{{ .KindSuffix }}.json"),
                 "-schema-location", str(k8s.SCHEMAS / "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json")]
    misspelt = tmp_path / "misspelt.yaml"
    misspelt.write_text("apiVersion: kafka.strimzi.io/v1\nkind: KafkaTopic\nmetadata: {name: t}\n"
                        "spec: {partitions: 3, replicas: 3, retention: 1}\n")
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("apiVersion: kafka.strimzi.io/v1\nkind: KafkaBridge\nmetadata: {name: b}\nspec: {}\n")
    for wrong in (misspelt, unknown):
        with pytest.raises(k8s.CheckFailed):
            k8s.run([kubeconform, "-strict", *locations, wrong])


def test_a_kafka_topic_for_every_catalogue_topic_and_its_dead_letter_twin(production):
    topics = of_kind(production, "KafkaTopic")
    assert sorted(t["spec"]["topicName"] for t in topics) == sorted(
        name for topic in Topics.ALL for name in (topic, Topics.dead_letter(topic)))
    for topic in topics:
        assert topic["apiVersion"] == "kafka.strimzi.io/v1"
        assert topic["spec"]["replicas"] >= 3 and topic["spec"]["config"]["min.insync.replicas"] == 2


def what_the_code_does(service: str, monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str, str, str]]:
    """The ACLs a service needs, from its broker as app.py builds it: (resource type, name, pattern, operation)."""
    monkeypatch.setenv("CPC_CONTACT_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("CPC_STAFF_TOKEN_SECRET", "not-a-secret")
    broker = importlib.import_module(f"cpc_{service}.app").build().broker
    needs = set()
    for subscriber in broker.subscribers:
        for topic in subscriber.topics:
            needs |= {("topic", topic.name, "literal", op) for op in ("Read", "Describe")}
            needs |= {("group", subscriber.group_id, "literal", op) for op in ("Read", "Describe")}
            needs |= {("topic", Topics.dead_letter(topic.name), "literal", op) for op in ("Write", "Describe")}
    for publisher in broker.publishers:
        needs |= {("topic", publisher.topic, "literal", op) for op in ("Write", "Describe")}
    return needs


def granted(user: dict) -> set[tuple[str, str, str, str]]:
    return {(acl["resource"]["type"], acl["resource"].get("name", ""), acl["resource"].get("patternType", "literal"), op)
            for acl in user["spec"]["authorization"]["acls"] for op in acl["operations"]}


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_kafka_user_may_do_exactly_what_its_code_does(production, service, monkeypatch):
    users = {user["metadata"]["name"]: user for user in of_kind(production, "KafkaUser")}
    user = users[f"cpc-{service}"]
    assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
    assert granted(user) == what_the_code_does(service, monkeypatch)
    deployment = next(d for d in of_kind(production, "Deployment") if d["metadata"]["name"] == f"cpc-{service}")
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["CPC_KAFKA_SASL_USERNAME"]["value"] == f"cpc-{service}"
    assert env["CPC_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": f"cpc-{service}", "key": "password"}
    assert env["CPC_KAFKA_CREATE_TOPICS"]["value"] == "false"


def test_a_partner_may_only_read_its_topics_in_its_own_groups(production):
    partner = next(u for u in of_kind(production, "KafkaUser") if u["metadata"]["name"] == "cpc-partner-case-management")
    assert granted(partner) == {
        ("topic", "cpc.conferences", "literal", "Read"), ("topic", "cpc.conferences", "literal", "Describe"),
        ("topic", "cpc.reports", "literal", "Read"), ("topic", "cpc.reports", "literal", "Describe"),
        ("group", "case-management", "prefix", "Read"), ("group", "case-management", "prefix", "Describe")}
    with pytest.raises(k8s.CheckFailed, match="not one of our topics"):
        k8s.render("production", "--set", "partners[0].name=x", "--set", "partners[0].topics[0]=cpc.secret")


def test_every_environment_variable_is_a_setting_of_its_service(production, monkeypatch):
    """A misspelt CPC_ name would be ignored by the service: each one the chart sets must be a real setting."""
    for service in SERVICES:
        app = importlib.import_module(f"cpc_{service}.app")
        settings_class = {"scheduling": getattr(app, "SchedulingSettings", None), "reports": getattr(app, "ReportsSettings", None),
                          "notifications": getattr(app, "NotificationSettings", None)}.get(service)
        if settings_class is None:
            from cpc_shared.settings import StaffApiSettings as settings_class
        known = {f"CPC_{field.upper()}" for field in settings_class.model_fields}
        deployment = next(d for d in of_kind(production, "Deployment") if d["metadata"]["name"] == f"cpc-{service}")
        names = {e["name"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert names - known == set(), service


def test_pods_run_locked_down_and_drain_before_they_stop(production):
    for deployment in of_kind(production, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["automountServiceAccountToken"] is False
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert {m["mountPath"] for m in container["volumeMounts"]} >= {"/tmp", "/etc/cpc/profile"}
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        # preStop, then uvicorn's 10 s graceful shutdown (cpc_shared/service.py), within the grace period
        assert pod["terminationGracePeriodSeconds"] >= container["lifecycle"]["preStop"]["sleep"]["seconds"] + 10
    assert {d["metadata"]["name"] for d in of_kind(production, "NetworkPolicy")} == {f"cpc-{s}" for s in SERVICES}
