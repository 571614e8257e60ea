"""When the services have finished what was asked of them: every consumer group caught up, every outbox
published (as each service says on `/health/outbox`), and nothing new on the topics for a while."""

from __future__ import annotations

import asyncio
import time

import httpx

from cpc_stack import services
from cpc_stack.observe import Watcher, consumer_lag


async def lag(bootstrap: str, prefix: str = "cpc-") -> int | None:
    """Records the services' consumer groups have still to handle; None while the broker does not answer."""
    try:
        return sum((await consumer_lag(bootstrap, prefix)).values())
    except Exception:  # the broker still coming back
        return None


async def pending_outbox(client: httpx.AsyncClient, ports: list[int] | None = None) -> int | None:
    """Documents whose events the services have not yet published; None if one does not answer."""
    pending = 0
    try:
        for port in ports or list(services.SERVICES.values()):
            answer = await client.get(f"http://127.0.0.1:{port}/health/outbox")
            answer.raise_for_status()
            pending += answer.json()["pending_documents"]
    except (httpx.HTTPError, KeyError, ValueError):
        return None
    return pending


async def settle(bootstrap: str, watcher: Watcher, quiet_for: float = 5.0, limit: float = 300.0) -> bool:
    """Caught up, published, and nothing new on the topics for `quiet_for` seconds; False after `limit` seconds.
    The outboxes are counted only once the consumers have caught up: counting reads whole collections, work the
    store should spend on the services while they are behind."""
    started, quiet_since, seen = time.monotonic(), None, -1
    async with httpx.AsyncClient(timeout=30) as client:
        while time.monotonic() - started < limit:
            if await lag(bootstrap) == 0 and len(watcher.seen) == seen and await pending_outbox(client) == 0:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= quiet_for:
                    return True
            else:
                quiet_since = None
            seen = len(watcher.seen)
            await asyncio.sleep(1)
    return False
