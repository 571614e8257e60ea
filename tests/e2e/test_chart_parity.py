"""The chart's environment runs: each Deployment's container env, as `helm template` renders it with the default
values, starts its service on the local stack, and a conference request flows to ConferenceScheduled and on to the
partner topics (each invited agency's AgencyInvited).

Only what must be local is overridden: the broker and store addresses (and the store's semantics, FerretDB here),
the mail server, the ports and bind address, the database prefix (this test's own), and the profile's path (the
repository's copy of the file the chart's ConfigMap holds). Secrets come from the chart's own rendered Secret."""

from __future__ import annotations

import asyncio
import base64
import sys
import urllib.request
import uuid

import httpx
import pytest
from cpc_shared.contracts import Topics
from cpc_stack import casemgmt, k8s, processes, services, settling
from cpc_stack.observe import Watcher
from cpc_stack.paths import PORT_OFFSET, REPO
from pymongo import MongoClient

from tests.conftest import ALL_TOPICS, new_request

pytestmark = pytest.mark.e2e

PORTS = {name: 8141 + PORT_OFFSET + i for i, name in enumerate(services.SERVICES)}


def chart_environments() -> tuple[dict[str, dict[str, str]], dict]:
    docs = k8s.render("default")
    secret = next(d for d in docs if d["kind"] == "Secret")
    secret_data = {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
    config_map = next(d for d in docs if d["kind"] == "ConfigMap")
    envs = {}
    for deployment in (d for d in docs if d["kind"] == "Deployment"):
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        env = {}
        for item in container["env"]:
            if "value" in item:
                env[item["name"]] = item["value"]
            else:
                ref = item["valueFrom"]["secretKeyRef"]
                assert ref["name"] == secret["metadata"]["name"]
                if ref["key"] in secret_data:
                    env[item["name"]] = secret_data[ref["key"]]
                else:
                    assert ref.get("optional"), f"{item['name']}: no key {ref['key']} in the chart's Secret"
        envs[container["command"][-1].removeprefix("cpc_")] = {"command": container["command"], **env}
    return envs, config_map


async def test_every_deployment_env_starts_its_service_and_a_request_is_scheduled(stack, service_env):
    envs, config_map = chart_environments()
    assert set(envs) == set(services.SERVICES)
    assert {env["CPC_PROFILE_PATH"] for env in envs.values()} == {"/etc/cpc/profile/profile.yaml"}
    local_profile = REPO / "profiles" / "gloucestershire-2022.yaml"
    assert config_map["data"]["profile.yaml"].strip() == local_profile.read_text().strip()

    prefix = f"cpc_chart_{uuid.uuid4().hex[:8]}"
    local = {"CPC_KAFKA_BOOTSTRAP_SERVERS": stack.kafka, "CPC_MONGODB_URL": stack.mongodb,
             "CPC_STORE_SEMANTICS": stack.env()["CPC_STORE_SEMANTICS"], "CPC_SMTP_HOST": stack.smtp_host,
             "CPC_SMTP_PORT": str(stack.smtp_port), "CPC_HTTP_HOST": "127.0.0.1", "CPC_PROFILE_PATH": str(local_profile),
             "CPC_DATABASE_PREFIX": prefix}
    # The services a session started share these consumer groups: they step aside while the chart's run.
    were_running = [name for name in processes.running() if name.partition("-")[0] in services.SERVICES]
    services.stop(were_running)
    names = [f"chart-{name}" for name in services.SERVICES]
    try:
        for name in services.SERVICES:
            command = envs[name].pop("command")
            assert command[:2] == ["python", "-m"] and command[2] == f"cpc_{name}"
            env = {**envs[name], **local, "CPC_HTTP_PORT": str(PORTS[name])}
            processes.start(f"chart-{name}", [sys.executable, *command[1:]], env=env, cwd=REPO)
        for name in services.SERVICES:
            processes.wait_until(lambda name=name: ready(PORTS[name]), f"the chart's {name}", 60, f"chart-{name}")

        request = new_request()
        # Watching starts once the processes are up (starting them holds the event loop).
        async with Watcher(stack.kafka, ALL_TOPICS) as watcher:
            await casemgmt.publish(stack.kafka, [("casemgmt.ConferenceRequested.v1", request)])
            assert await watcher.until(
                lambda: bool(watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])), 60), "not scheduled"
            conference = watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])[0].data
            cid = conference["conference_id"]
            agencies = {i["agency"] for i in conference["invitees"] if i.get("agency") and i["role"] not in ("parent", "child")}
            assert agencies

            def invited() -> set[str]:
                return {s.topic for s in watcher.of_type("cpc.partner.AgencyInvited.v1", conference_id=cid)}

            assert await watcher.until(lambda: invited() == {Topics.partner_agency(a) for a in agencies}, 30), invited()
        with MongoClient(stack.mongodb) as client:  # scheduled by the chart's processes, in their own databases
            assert client[f"{prefix}_scheduling"]["conferences"].count_documents({"case_id": request["case_id"]}) == 1
            assert client[f"{prefix}_partners"]["conferences"].count_documents({"_id": cid}) == 1
        # Before the session's services come back, the chart's finish what this conference started: events they
        # leave unread would reach services whose databases have never heard of it.
        assert await drained(stack.kafka, [PORTS[name] for name in services.SERVICES]), "the chart's services did not finish"
    finally:
        processes.stop_all(names)
        if were_running:
            services.start(stack, were_running, extra_env=service_env)


async def drained(kafka: str, ports: list[int], limit: float = 90.0) -> bool:
    """Every consumer group caught up and every outbox published, twice in a row a second apart."""
    loop, quiet = asyncio.get_running_loop(), 0
    deadline = loop.time() + limit
    async with httpx.AsyncClient(timeout=10) as client:
        while loop.time() < deadline:
            quiet = quiet + 1 if await settling.lag(kafka) == 0 and await settling.pending_outbox(client, ports) == 0 else 0
            if quiet >= 2:
                return True
            await asyncio.sleep(1)
    return False


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as response:
            return response.status == 200
    except Exception:
        return False
