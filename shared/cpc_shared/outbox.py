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

Finding pending entries: a writer tells the relay which document it wrote (`notify(collection, id)`),
and the relay reads just those by id. A full sweep of the collections runs at start-up (a crash's
leftovers) and every `sweep` seconds (another replica's orphans, a writer that forgot to tell).
FerretDB 1.x on SQLite filters only `_id` in the database and reads every other query's whole
collection, so a sweep per event made the relays most of the store's work in a simulated month.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from collections.abc import Hashable
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

    def __init__(self, db: AsyncDatabase, collections: list[str], broker: KafkaBroker, source: str, sweep: float,
                 lock: asyncio.Lock | None = None) -> None:
        self._db = db
        self._lock = lock or asyncio.Lock()
        self._collections = collections
        self._broker = broker
        self._source = source
        self._sweep = sweep
        self._written: dict[str, set[Hashable]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def notify(self, collection: str, *document_ids: Hashable) -> None:
        """These documents were just given outbox entries: publish them now rather than at the next sweep."""
        self._written.setdefault(collection, set()).update(document_ids)
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

    async def drain(self, *, sweep: bool = True) -> int:
        """Publish what is pending once: with `sweep`, in every document (this process's entries, and any
        another left too long); without, in the documents named by `notify` since the last drain.

        Entries are published first and pulled afterwards in batches, under one turn of the write lock
        each: a busy service holds that lock most of the time, and a turn per entry let the relay fall
        far behind (measured: 900 of 1,200 notifications unpublished at the end of a simulated fortnight).
        The pending documents are read in full before anything is published or written, so no cursor stays
        open while the same database is written (a precaution on FerretDB's SQLite backend, not a measured fault).
        An entry written twice with one id (a handler redelivered after a partial write) is published once.
        """
        published = 0
        for name in self._collections:
            collection = self._db[name]
            written = self._written.pop(name, set())
            try:
                if sweep:
                    pending = await collection.find({"outbox.0": {"$exists": True}}, {"outbox": 1}).to_list()
                else:
                    found = [await collection.find_one({"_id": document_id}, {"outbox": 1}) for document_id in written]
                    pending = [document for document in found if document and document.get("outbox")]
                published += await self._publish_pending(collection, pending)
            except BaseException:
                self._written.setdefault(name, set()).update(written)  # told again at the next drain
                raise
        return published

    async def _publish_pending(self, collection: AsyncCollection, pending: list[dict[str, Any]]) -> int:
        done: list[tuple[Any, dict[str, Any]]] = []
        sent: set[str] = set()
        orphaned_before = datetime.now(UTC) - TAKEOVER
        for document in pending:
            for entry in document["outbox"]:
                if entry.get("writer") != _writer["id"] and entry.get("written_at", orphaned_before) > orphaned_before:
                    continue  # the replica that wrote it will publish it
                if entry["id"] not in sent:
                    await self._publish(entry)
                    sent.add(entry["id"])
                done.append((document["_id"], entry))
            if len(done) >= PULL_BATCH:
                await self._pull(collection, done)
                done = []
        await self._pull(collection, done)
        return len(sent)

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
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        while True:
            sweep = loop.time() >= next_sweep
            try:
                await self.drain(sweep=sweep)
                if sweep:
                    next_sweep = loop.time() + self._sweep
            except asyncio.CancelledError:
                raise
            except Exception as error:  # store or broker away: try again shortly
                log.warning("outbox_relay_failed", error=type(error).__name__)
                await asyncio.sleep(min(1.0, self._sweep))
                self._wake.set()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, next_sweep - loop.time()))
            except TimeoutError:
                pass
            self._wake.clear()
