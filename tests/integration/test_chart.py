"""The image and the Kubernetes chart, checked offline: lint, schemas, and what the chart grants against the code.

The topics and ACLs the chart renders are compared with what each service really subscribes to and publishes
(its broker, built in-process from its app.py), with the topics the code creates (Topics.created()), and with the
partner topics each partner system may read."""

from __future__ import annotations

import importlib
import re

import pytest
import yaml
from cpc_shared.contracts import Topics
from cpc_shared.contracts.partner import AGENCIES
from cpc_shared.service import Service
from cpc_stack import k8s, services
from cryptography.fernet import Fernet

SERVICES = list(services.SERVICES)  # every service the local stack runs
DAY_MS = 24 * 3600 * 1000


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


def test_a_kafka_topic_for_every_topic_the_code_creates(production):
    """The internal topics with their dead-letter twins, and the partner topics (no twins): Topics.created()."""
    topics = of_kind(production, "KafkaTopic")
    assert sorted(t["spec"]["topicName"] for t in topics) == sorted(Topics.created())
    assert len(topics) == len(set(Topics.created()))
    assert len({t["metadata"]["name"] for t in topics}) == len(topics)
    for topic in topics:
        assert topic["apiVersion"] == "kafka.strimzi.io/v1"
        assert topic["spec"]["replicas"] >= 3 and topic["spec"]["config"]["min.insync.replicas"] == 2
        name, retention = topic["spec"]["topicName"], topic["spec"]["config"]["retention.ms"]
        if name in Topics.PARTNERS:  # partners catch up after an outage; dead letters wait for a fix
            assert retention >= 30 * DAY_MS, name
        elif name.endswith(".dlq"):
            assert retention >= 30 * DAY_MS, name
        else:
            assert retention == 7 * DAY_MS, name


def built(service: str, monkeypatch: pytest.MonkeyPatch) -> Service:
    """The service as its app.py builds it (no connection is made until it runs)."""
    monkeypatch.setenv("CPC_CONTACT_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("CPC_FAMILY_LINK_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("CPC_STAFF_TOKEN_SECRET", "not-a-secret")
    return importlib.import_module(f"cpc_{service}.app").build()


def topics_of(publisher_topic: str) -> set[str]:
    """A publisher's topic, or every topic its channel pattern stands for (partner.agency.{agency})."""
    if "{agency}" in publisher_topic:
        return {publisher_topic.format(agency=agency) for agency in AGENCIES}
    assert "{" not in publisher_topic, f"a channel pattern the chart test does not know: {publisher_topic}"
    return {publisher_topic}


def what_the_code_does(service: str, monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str, str, str]]:
    """The ACLs a service needs, from its broker as app.py builds it: (resource type, name, pattern, operation)."""
    built_service = built(service, monkeypatch)
    broker = built_service.broker
    needs = set()
    for group, offsets_of in built_service.offsets_read:  # e.g. the dashboard's dead letters waiting
        needs |= {("topic", topic, "literal", "Describe") for topic in offsets_of} | {("group", group, "literal", "Describe")}
    for subscriber in broker.subscribers:
        for topic in subscriber.topics:
            needs |= {("topic", topic.name, "literal", op) for op in ("Read", "Describe")}
            needs |= {("group", subscriber.group_id, "literal", op) for op in ("Read", "Describe")}
            needs |= {("topic", Topics.dead_letter(topic.name), "literal", op) for op in ("Write", "Describe")}
    for publisher in broker.publishers:
        needs |= {("topic", topic, "literal", op) for topic in topics_of(publisher.topic) for op in ("Write", "Describe")}
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


def reads(topic: str, group_prefix: str) -> set[tuple[str, str, str, str]]:
    return {("topic", topic, "literal", "Read"), ("topic", topic, "literal", "Describe"),
            ("group", group_prefix, "prefix", "Read"), ("group", group_prefix, "prefix", "Describe")}


def test_each_partner_may_only_read_its_own_topic_in_groups_named_after_it(production):
    """NHS CP-IS reads partner.cpis.plans in groups partner-cpis*; each agency partner.agency.<agency> in groups
    partner-agency-<agency>* (a Kafka user's name cannot hold '_', so childrens_social_care's user has '-')."""
    service_users = {f"cpc-{service}" for service in SERVICES}
    partners = {u["metadata"]["name"]: u for u in of_kind(production, "KafkaUser")
                if u["metadata"]["name"] not in service_users}
    expected = {"partner-cpis": reads(Topics.PARTNER_CPIS, "partner-cpis")}
    for agency in AGENCIES:
        expected[f"partner-agency-{agency}".replace("_", "-")] = reads(Topics.partner_agency(agency), f"partner-agency-{agency}")
    assert {name: granted(user) for name, user in partners.items()} == expected
    for user in partners.values():
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", user["metadata"]["name"])
    # every partner topic has its reader
    assert {acl[1] for user in expected.values() for acl in user if acl[0] == "topic"} == set(Topics.PARTNERS)


def test_no_partner_users_by_default():
    users = of_kind(k8s.render("default", "--set", "strimzi.enabled=true"), "KafkaUser")
    assert sorted(u["metadata"]["name"] for u in users) == sorted(f"cpc-{service}" for service in SERVICES)


@pytest.mark.parametrize(("name", "topic", "error"), [
    ("partner-x", "cpc.conferences", "not one of our partner topics"),  # internal topics are not for partners
    ("partner-x", "cpc.conferences.dlq", "not one of our partner topics"),
    ("partner-x", "partner.secret", "not one of our partner topics"),
    ("partner_x", "partner.cpis.plans", "lower-case letters, digits and '-' only"),
])
def test_a_partner_user_for_anything_but_a_partner_topic_fails(name, topic, error):
    with pytest.raises(k8s.CheckFailed, match=error):
        k8s.render("production", "--set", f"partners[0].name={name}", "--set", f"partners[0].topics[0]={topic}")


def test_every_service_has_its_deployment_service_and_policies(production):
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"):
        assert {d["metadata"]["name"] for d in of_kind(production, kind)} == {f"cpc-{s}" for s in SERVICES}, kind
    for deployment in of_kind(production, "Deployment"):
        service = deployment["metadata"]["name"].removeprefix("cpc-")
        assert deployment["spec"]["template"]["spec"]["containers"][0]["command"] == ["python", "-m", f"cpc_{service}"]
    monitor = of_kind(production, "ServiceMonitor")[0]  # selects every service's Service by its labels
    for svc in of_kind(production, "Service"):
        assert monitor["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()


def test_the_image_installs_every_service():
    install = re.search(r"pip install (.*?)&&", k8s.DOCKERFILE.read_text(), re.S)
    assert install is not None
    assert {f"./services/{service}" for service in SERVICES} <= set(install.group(1).split())


@pytest.mark.parametrize("service", SERVICES)
def test_every_environment_variable_is_a_setting_of_its_service(production, service, monkeypatch):
    """A misspelt CPC_ name would be ignored by the service: each one the chart sets must be a real setting, and
    each setting the service requires must be set (a staff API's token secret; none for the others)."""
    settings = type(built(service, monkeypatch).settings)
    known = {f"CPC_{field.upper()}" for field in settings.model_fields}
    required = {f"CPC_{name.upper()}" for name, field in settings.model_fields.items() if field.is_required()}
    deployment = next(d for d in of_kind(production, "Deployment") if d["metadata"]["name"] == f"cpc-{service}")
    names = {e["name"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert names - known == set()
    assert required - names == set()


@pytest.mark.parametrize("service", SERVICES)
def test_network_policy_lets_in_the_ingress_controller_only_to_a_staff_api(production, service, monkeypatch):
    """Egress only to DNS, Kafka and MongoDB (notifications also to SMTP and GOV.UK Notify); ingress from the
    ingress controller only where the service serves the staff API (its settings hold the token secret)."""
    staff_api = "staff_token_secret" in type(built(service, monkeypatch).settings).model_fields
    policy = next(p for p in of_kind(production, "NetworkPolicy") if p["metadata"]["name"] == f"cpc-{service}")
    ingress_from = policy["spec"]["ingress"][0]["from"]
    defaults = yaml.safe_load((k8s.CHART / "values.yaml").read_text())["networkPolicy"]
    assert ingress_from == defaults["metricsFrom"] + (defaults["ingressFrom"] if staff_api else [])
    egress_ports = [{port["port"] for port in rule["ports"]} for rule in policy["spec"]["egress"]]
    topology = yaml.safe_load((k8s.CHART / "topology.yaml").read_text())["services"]
    calls = topology[service].get("readsApisOf", [])
    expected = [{53}, {9093}, {27017}] + [{"http"}] * len(calls) + ([{587}, {443}] if service == "notifications" else [])
    assert egress_ports == expected
    for peer in calls:  # the dashboard reads rooms' and reports' staff APIs: let out to them, let in there
        assert {"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "cpc", "app.kubernetes.io/name": peer}}} in [
            rule["to"][0] for rule in policy["spec"]["egress"]]
        deployment = next(d for d in of_kind(production, "Deployment") if d["metadata"]["name"] == f"cpc-{service}")
        env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env[f"CPC_{peer.upper()}_URL"] == f"http://cpc-{peer}:8100"
    callers = [name for name, io in topology.items() if service in io.get("readsApisOf", [])]
    from_callers = [rule["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                    for rule in policy["spec"]["ingress"][1:]]
    assert from_callers == callers

