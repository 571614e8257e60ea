"""Fixtures for cross-service tests: the real stack (Kafka, FerretDB, mail), and the four services as processes.

The stack is the project's own (deploy/local), or the broker and store named by KAFKA_BOOTSTRAP_SERVERS
and MONGODB_URL. Each test session gets fresh topics and its own databases.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from email.message import Message
from pathlib import Path

import pytest
from cpc_shared.contracts import Topics
from cpc_stack import casemgmt, infra, services
from cpc_stack.mail import Mailbox
from cpc_stack.node import axe_core
from cpc_stack.observe import Watcher
from cpc_stack.paths import RUN
from playwright.async_api import Browser, Page, async_playwright

ALL_TOPICS = Topics.created()
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="session")
def stack() -> Iterator[infra.Endpoints]:
    services.stop()  # services left running by a demo would read this session's fresh topics
    with ExitStack() as containers:
        if os.environ.get("CPC_TESTCONTAINERS") == "1":
            _start_containers(containers)
        yield infra.up(recreate_topics=True)


def _start_containers(containers: ExitStack) -> None:
    """Where a Docker engine runs: Kafka and MongoDB from testcontainers, behind the same fixtures.
    (Our CI machines have no Docker engine and use the project's own stack instead.)"""
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.mongodb import MongoDbContainer

    kafka = containers.enter_context(KafkaContainer().with_kraft())
    mongo = containers.enter_context(MongoDbContainer("mongo:7"))
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = kafka.get_bootstrap_server()
    os.environ["MONGODB_URL"] = mongo.get_connection_url()


@pytest.fixture(scope="session")
def database_prefix() -> str:
    return f"cpc_test_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def clock_offset_file() -> Path:
    """Every service reads its clock's offset from this file: a test moves them all through time at once."""
    path = RUN / "clock-offset"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("0")
    return path


@pytest.fixture(scope="session")
def service_env(database_prefix: str, clock_offset_file: Path) -> dict[str, str]:
    return {"CPC_DATABASE_PREFIX": database_prefix, "CPC_RETRY_BACKOFF_SECONDS": "0.1",
            "CPC_CLOCK_OFFSET_FILE": str(clock_offset_file), "CPC_TIMER_POLL_SECONDS": "0.5"}


@pytest.fixture(scope="session")
def running_services(stack: infra.Endpoints, service_env: dict[str, str]) -> Iterator[infra.Endpoints]:
    services.start(stack, extra_env=service_env)
    yield stack
    services.stop()


@pytest.fixture
async def watcher(stack: infra.Endpoints) -> AsyncIterator[Watcher]:
    async with Watcher(stack.kafka, ALL_TOPICS) as watching:
        yield watching


_MAILBOXES: dict[Path, Mailbox] = {}


def mails_for(endpoints: infra.Endpoints, conference_id: str, purpose: str | None = "invitation") -> list[Message]:
    """The mails the local mail server holds for a conference (invitations, unless another purpose is named)."""
    box = _MAILBOXES.setdefault(endpoints.maildir, Mailbox(endpoints.maildir))
    return box.find(conference_id, None if purpose is None else (purpose,))


def new_request(**overrides) -> dict:
    """An initial conference request for a case no other test uses."""
    return casemgmt.conference_requested(random.randrange(100_000, 999_999), **overrides)


async def schedule(watcher: Watcher, endpoints: infra.Endpoints, **overrides) -> tuple[dict, dict]:
    """Send a new request and wait until it is scheduled: (the request, ConferenceScheduled's data)."""
    request = new_request(**overrides)
    await casemgmt.publish(endpoints.kafka, [("casemgmt.ConferenceRequested.v1", request)])

    def found() -> list:
        return watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])

    assert await watcher.until(lambda: bool(found()), 60), "not scheduled"
    return request, found()[0].data


@contextlib.asynccontextmanager
async def headless_chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (it downloads no browser of its own)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed (.ci/run installs it)"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            await browser.close()


async def accessibility_problems(page: Page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.2 A and AA rules)."""
    await page.add_script_tag(path=str(axe_core()))
    result = await page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    assert result["passes"], "axe ran its rules"
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]
