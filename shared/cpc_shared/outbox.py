"""The transactional outbox, without transactions.

A state change and the events it causes are written in ONE single-document update: the aggregate's
document carries an `outbox` array of pending events. The relay publishes each entry, then pulls
exactly that entry. A crash between the two republishes it with the same event id, and consumers
dedupe by id, so an event is never lost and its effect never doubled.

FerretDB 1.x (our development store) applies an update by reading the document and writing it back
whole, so two concurrent writers to one document can lose an update. Within a process every write
therefore goes through the service's write lock; across replicas, each relay publishes the entries
its own process wrote, and takes over another's only when they have waited past `TAKEOVER`
(a replica that died). MongoDB, in production, updates documents atomically anyway.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from faststream.kafka import KafkaBroker
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from cpc_shared.contracts.outbound import OutboundEvent
from cpc_shared.envelope import encode, event_id
from cpc_shared.logging import get_logger

log = get_logger(__name__)
TAKEOVER = timedelta(seconds=20)
PULL_BATCH = 200
_writer = {"id": "local"}


def set_writer(instance_id: str) -> None:
    """Name this process as the writer of the outbox entries it makes (stable across its restarts)."""
    _writer["id"] = instance_id


def outbox_entry(event: OutboundEvent, *, at: datetime, cause: str) -> dict[str, Any]:
    """An outbox entry for `event`; `cause` makes the id deterministic (the same cause, the same id).
    The cause must tell apart every event of one type for one key (e.g. name the report): consumers
    handle an id once, so two events sharing an id would be one."""
    return {
        "id": event_id(event.type, event.key, cause),
        "type": event.type,
        "topic": event.topic,
        "key": event.key,
        "time": at,
        "data": event.model_dump(mode="json"),
        "writer": _writer["id"],
        "written_at": datetime.now(UTC),
    }


class OutboxRelay:
    """Publishes the outbox entries of the given collections, in order per document."""

    def __init__(self, db: AsyncDatabase, collections: list[str], broker: KafkaBroker, source: str, poll: float,
                 lock: asyncio.Lock | None = None) -> None:
        self._db = db
        self._lock = lock or asyncio.Lock()
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
        """Publish what is pending once (this process's entries, and any another left too long).

        Entries are published first and pulled afterwards in batches, under one turn of the write lock
        each: a busy service holds that lock most of the time, and a turn per entry let the relay fall
        far behind (measured: 900 of 1,200 notifications unpublished at the end of a simulated fortnight).
        The pending documents are read in full before anything is published or written, so no cursor stays
        open while the same database is written (a precaution on FerretDB's SQLite backend, not a measured fault).
        """
        published = 0
        for name in self._collections:
            collection = self._db[name]
            done: list[tuple[Any, dict[str, Any]]] = []
            pending = await collection.find({"outbox.0": {"$exists": True}}, {"outbox": 1}).to_list()
            orphaned_before = datetime.now(UTC) - TAKEOVER
            for document in pending:
                for entry in document["outbox"]:
                    if entry.get("writer") != _writer["id"] and entry.get("written_at", orphaned_before) > orphaned_before:
                        continue  # the replica that wrote it will publish it
                    await self._publish(entry)
                    done.append((document["_id"], entry))
                    published += 1
                if len(done) >= PULL_BATCH:
                    await self._pull(collection, done)
                    done = []
            await self._pull(collection, done)
        return published

    async def _pull(self, collection: AsyncCollection, done: list[tuple[Any, dict[str, Any]]]) -> None:
        """Remove published entries; a crash before this republishes them with the same ids."""
        if done:
            async with self._lock:
                for document_id, entry in done:  # one update each: FerretDB 1.24 hung on a bulk write of these
                    await collection.update_one({"_id": document_id}, {"$pull": {"outbox": entry}})

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
