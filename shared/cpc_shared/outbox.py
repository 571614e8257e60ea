"""The transactional outbox, without transactions.

A state change and the events it causes are written in ONE single-document update: the aggregate's
document carries an `outbox` array of pending events. The relay publishes each entry, then pulls
exactly that entry. A crash between the two republishes it with the same event id, and consumers
dedupe by id, so an event is never lost and its effect never doubled.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from faststream.kafka import KafkaBroker
from pymongo.asynchronous.database import AsyncDatabase

from cpc_shared.contracts.outbound import OutboundEvent
from cpc_shared.envelope import encode, event_id
from cpc_shared.logging import get_logger

log = get_logger(__name__)
LEASE = timedelta(seconds=30)


def outbox_entry(event: OutboundEvent, *, at: datetime, cause: str) -> dict[str, Any]:
    """An outbox entry for `event`; `cause` makes the id deterministic (the same cause, the same id)."""
    return {
        "id": event_id(event.type, event.key, cause),
        "type": event.type,
        "topic": event.topic,
        "key": event.key,
        "time": at,
        "data": event.model_dump(mode="json"),
    }


def pending(*entries: dict[str, Any]) -> dict[str, Any]:
    """The `$push` clause that adds entries to a document's outbox."""
    return {"outbox": {"$each": list(entries)}}


class OutboxRelay:
    """Publishes the outbox entries of the given collections, in order per document."""

    def __init__(self, db: AsyncDatabase, collections: list[str], broker: KafkaBroker, source: str, poll: float) -> None:
        self._db = db
        self._collections = collections
        self._broker = broker
        self._source = source
        self._poll = poll
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def notify(self) -> None:
        """Something was just written: publish now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def drain(self) -> int:
        """Publish everything pending once; returns how many events were published.

        Each document is leased while its events go out, so two replicas' relays don't publish the same
        events side by side; a lease left by a crashed relay runs out and another takes over."""
        published = 0
        for name in self._collections:
            collection = self._db[name]
            while True:
                now = datetime.now(UTC)
                document = await collection.find_one_and_update(
                    {"outbox.0": {"$exists": True},
                     "$or": [{"outbox_lease": {"$exists": False}}, {"outbox_lease": {"$lt": now}}]},
                    {"$set": {"outbox_lease": now + LEASE}},
                )  # (no projection: FerretDB's findAndModify does not support one)
                if document is None:
                    break
                try:
                    for entry in document["outbox"]:
                        await self._publish(entry)
                        await collection.update_one({"_id": document["_id"]}, {"$pull": {"outbox": entry}})
                        published += 1
                finally:
                    await collection.update_one({"_id": document["_id"]}, {"$unset": {"outbox_lease": ""}})
        return published

    async def _publish(self, entry: dict[str, Any]) -> None:
        headers, key, value = encode(
            id=entry["id"], type=entry["type"], source=self._source, time=entry["time"], key=entry["key"], data=entry["data"]
        )
        await self._broker.publish(
            value,
            topic=entry["topic"],
            key=key,
            headers={name: raw.decode() for name, raw in headers.items()},
            correlation_id=entry["id"],
        )
        log.info("event_published", event_type=entry["type"], event_id=entry["id"], conference_id=entry["key"])

    async def _run(self) -> None:
        while True:
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # store or broker away: try again at the next poll
                log.warning("outbox_relay_failed", error=type(error).__name__)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            except TimeoutError:
                pass
            self._wake.clear()
