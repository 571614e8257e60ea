"""Fixtures for cross-service tests: the real stack (Kafka, FerretDB, mail), and the four services as processes.

The stack is the project's own (deploy/local), or the broker and store named by KAFKA_BOOTSTRAP_SERVERS
and MONGODB_URL. Each test session gets fresh topics and its own databases.
"""

from __future__ import annotations

import mailbox
import uuid
from collections.abc import AsyncIterator, Iterator
from email.message import Message

import pytest

from cpc_stack import infra, services
from cpc_stack.observe import Watcher
from cpc_shared.contracts import Topics

ALL_TOPICS = [name for topic in Topics.ALL for name in (topic, Topics.dead_letter(topic))]


@pytest.fixture(scope="session")
def stack() -> infra.Endpoints:
    services.stop()  # services left running by a demo would read this session's fresh topics
    return infra.up(recreate_topics=True)


@pytest.fixture(scope="session")
def database_prefix() -> str:
    return f"cpc_test_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def running_services(stack: infra.Endpoints, database_prefix: str) -> Iterator[infra.Endpoints]:
    services.start(stack, extra_env={"CPC_DATABASE_PREFIX": database_prefix, "CPC_RETRY_BACKOFF_SECONDS": "0.1"})
    yield stack
    services.stop()


@pytest.fixture
async def watcher(stack: infra.Endpoints) -> AsyncIterator[Watcher]:
    async with Watcher(stack.kafka, ALL_TOPICS) as watching:
        yield watching


def mails_for(endpoints: infra.Endpoints, conference_id: str) -> list[Message]:
    box = mailbox.Maildir(str(endpoints.maildir), create=False)
    return [message for message in box if message.get("X-CPC-Conference") == conference_id]

