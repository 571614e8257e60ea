"""The transactional outbox, without transactions.

A state change and the events it causes are written in ONE single-document update: the aggregate's
document carries an `outbox` array of pending events. The relay publishes each entry, then pulls
exactly that entry. A crash between the two republishes it with the same event id, and consumers
dedupe by id, so an event is never lost and its effect never doubled.

FerretDB 1.x (our development store) applies an update by reading the document and writing it back
whole, so two concurrent writers to one document can lose an update. Within a process, writes to one
document therefore take turns (the store's lock per document, which the relay takes too); across replicas, each relay publishes the entries
its own process wrote, and takes over another's only when they have waited past `TAKEOVER`
(a replica that died). MongoDB, in production, updates documents atomically anyway.

Finding pending entries: a writer hands the relay the entries it has just written (`hand_over`), and the relay
publishes them and pulls them (one update for the documents of a collection it drains together) without reading
the documents back; a writer that found
older entries still pending names the document instead (`notify(collection, id)`), and the relay reads it by id
and publishes all its entries in order. A full sweep of the collections runs, in a task of its own, at
start-up (a crash's leftovers) and every `sweep` seconds (another replica's orphans, a writer that forgot
to tell). FerretDB 1.x on SQLite filters only `_id` in the database and reads every other query's whole
collection, so a sweep per event made the relays most of the store's work in a simulated month.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from faststream.kafka import KafkaBroker
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from cpc_shared.contracts.outbound import OutboundEvent
from cpc_shared.envelope import encode, event_id
from cpc_shared.logging import get_logger
from cpc_shared.metrics import Metrics
from cpc_shared.tracing import continued, current_trace

log = get_logger(__name__)
# A writer's turn on one document, where the store needs turns (repository.DocumentStore.locked).
DocumentLocks = Callable[[str, Hashable], AbstractAsyncContextManager[None]]
TAKEOVER = timedelta(seconds=20)
FRESH = timedelta(seconds=5)  # a sweep leaves this process's newer entries to the notified drain
PULL_BATCH = 200
PULL_AFTER, PULL_WITHIN = 0.05, 1.0  # seconds: see OutboxRelay._unpulled
SWEEP_SHARE = 0.1  # of the time, at most, spent sweeping (when a sweep takes longer than a tenth of `sweep`)
REMEMBER_PUBLISHED = 100_000  # entry ids; a sweep and a drain that read one entry publish it once
_writer = {"id": "local"}


def set_writer(instance_id: str) -> None:
    """Name this process as the writer of the outbox entries it makes (stable across its restarts)."""
    _writer["id"] = instance_id


def outbox_entry(event: OutboundEvent, *, at: datetime, cause: str) -> dict[str, Any]:
    """An outbox entry for `event`; `cause` makes the id deterministic (the same cause, the same id).
    The cause must tell apart every event of one type for one key (e.g. name the report): consumers
    handle an id once, so two events sharing an id would be one. The entry keeps the trace context of the
    handler that recorded it (`traceparent`), when one is traced, for the relay to publish it in."""
    return {
        "id": event_id(event.type, event.key, cause),
        "type": event.type,
        "topic": event.topic,
        "key": event.key,
        "time": at,
        "data": event.model_dump(mode="json"),
        "writer": _writer["id"],
        "written_at": datetime.now(UTC),
        **current_trace(),
    }


def _freshly_ours(document: dict[str, Any]) -> bool:
    """This process wrote to the document in the last seconds: the writer has told the relay of it."""
    fresh = datetime.now(UTC) - FRESH
    return any(entry.get("writer") == _writer["id"] and entry.get("written_at", fresh) > fresh
               for entry in document["outbox"])


class OutboxRelay:
    """Publishes the outbox entries of the given collections, in order per document."""

    def __init__(self, db: AsyncDatabase, collections: list[str], broker: KafkaBroker, source: str, sweep: float,
                 locked: DocumentLocks | None = None, metrics: Metrics | None = None) -> None:
        self._db = db
        self._metrics = metrics
        self._locked = locked or _unlocked
        self._collections = collections
        self._broker = broker
        self._source = source
        self._sweep = sweep
        self._written: dict[str, set[Hashable]] = {}
        self._handed: dict[tuple[str, Hashable], list[dict[str, Any]]] = {}  # entries written, in order per document
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._published: dict[str, None] = {}  # ids published lately, oldest first: an entry goes out once
        self._publishing = asyncio.Lock()
        self._draining = False
        # Entries published from what writers handed over, still in their documents: pulled together once the relay
        # has had nothing new for PULL_AFTER seconds, or PULL_BATCH documents wait, or the first has waited
        # PULL_WITHIN; a burst's pulls are then a few updates, not one per event handled.
        self._unpulled: dict[tuple[str, Hashable], list[dict[str, Any]]] = {}
        self._unpulled_since = 0.0

    def notify(self, collection: str, *document_ids: Hashable) -> None:
        """These documents were just given outbox entries: publish them now rather than at the next sweep."""
        self._written.setdefault(collection, set()).update(document_ids)
        self._wake.set()

    def hand_over(self, collection: str, document_id: Hashable, entries: list[dict[str, Any]]) -> None:
        """These entries were just written to the document's outbox (it held no older ones): publish them now,
        from here, and pull them."""
        self._handed.setdefault((collection, document_id), []).extend(entries)
        self._wake.set()

    def published_here(self, entry_ids: list[str]) -> bool:
        """Whether this process has published (or is publishing) every one of these entries: a document read with
        only such entries still in its outbox can hand its next ones over, without being read again."""
        return all(entry_id in self._published for entry_id in entry_ids)

    async def pending(self) -> int:
        """How many documents hold events not yet published (whichever replica wrote them)."""
        return sum([await self._db[name].count_documents({"outbox.0": {"$exists": True}}) for name in self._collections])

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(), name="outbox-relay"),
                       asyncio.create_task(self._sweep_now_and_then(), name="outbox-sweep")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        if self._unpulled:  # what is left is published again after a restart (consumers handle an id once)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pull_unpulled(), 2.0)

    async def drain(self, *, sweep: bool = True, leave_fresh: bool = False, defer_pulls: bool = False) -> int:
        """Publish what is pending once: with `sweep`, in every document (this process's entries, and any
        another left too long); without, in the documents named by `notify` since the last drain. With
        `leave_fresh`, a sweep leaves documents this process wrote to in the last seconds to the notified drain.

        Entries are published first and pulled afterwards in batches, each pull under its document's lock.
        The pending documents are read in full before anything is published or written, so no cursor stays
        open while the same database is written (a precaution on FerretDB's SQLite backend, not a measured fault).
        An entry is published once by this process, though both tasks read it or it was written twice with
        one id (a handler redelivered after a partial write); after a crash, consumers dedupe by id.
        """
        published = 0
        for name in self._collections:
            collection = self._db[name]
            if sweep:
                pending = await collection.find({"outbox.0": {"$exists": True}}, {"outbox": 1}).to_list()
                self._measure(name, pending)
                if leave_fresh:
                    pending = [document for document in pending if not _freshly_ours(document)]
                published += await self._publish_pending(collection, pending)
                continue
            written = self._written.pop(name, set())
            try:
                found = [await collection.find_one({"_id": document_id}, {"outbox": 1}) for document_id in written]
                pending = [document for document in found if document and document.get("outbox")]
                published += await self._publish_pending(collection, pending)
            except BaseException:
                self._written.setdefault(name, set()).update(written)  # told again at the next drain
                raise
        if not sweep:
            published += await self._publish_handed(pull=not defer_pulls)
        return published

    async def _publish_handed(self, *, pull: bool = True) -> int:
        """Publish the entries writers handed over, in order per document; then (with `pull`, else later, see
        `_run`) pull them. What a fault leaves is handed back, before anything handed over since (those published
        already go out once)."""
        handed, self._handed = self._handed, {}
        published = 0
        try:
            for place, entries in list(handed.items()):
                async with self._publishing:
                    for entry in entries:
                        published += await self._publish_once(entry)
                if not self._unpulled:
                    self._unpulled_since = asyncio.get_running_loop().time()
                self._unpulled.setdefault(place, []).extend(handed.pop(place))
        except BaseException:
            later, self._handed = self._handed, dict(handed)
            for place, entries in later.items():
                self._handed.setdefault(place, []).extend(entries)
            raise
        if pull:
            await self._pull_unpulled()
        return published

    async def _pull_unpulled(self) -> None:
        """Pull the entries published from what writers handed over: one update per collection for many documents
        (by `_id`, each under its document's lock). What a fault leaves is pulled next time."""
        unpulled, self._unpulled = self._unpulled, {}
        try:
            by_collection: dict[str, list[Hashable]] = {}
            for name, document_id in unpulled:
                by_collection.setdefault(name, []).append(document_id)
            for name, all_ids in by_collection.items():
                for start in range(0, len(all_ids), PULL_BATCH):
                    document_ids = all_ids[start:start + PULL_BATCH]
                    entries = [entry for document_id in document_ids for entry in unpulled[(name, document_id)]]
                    async with contextlib.AsyncExitStack() as turns:
                        for document_id in sorted(document_ids, key=repr):  # one order: no two wait on each other
                            await turns.enter_async_context(self._locked(name, document_id))
                        await self._db[name].update_many({"_id": {"$in": document_ids}},
                                                         {"$pullAll": {"outbox": entries}})
                    for document_id in document_ids:
                        del unpulled[(name, document_id)]
        except BaseException:
            later, self._unpulled = self._unpulled, unpulled
            for place, entries in later.items():
                self._unpulled.setdefault(place, []).extend(entries)
            raise

    def _measure(self, collection: str, pending: list[dict[str, Any]]) -> None:
        """The backlog a sweep found: every entry not yet pulled, whichever replica wrote it."""
        if self._metrics is None:
            return
        entries = [entry for document in pending for entry in document["outbox"]]
        self._metrics.outbox_backlog.labels(collection=collection).set(len(entries))
        written = [entry["written_at"] for entry in entries if isinstance(entry.get("written_at"), datetime)]
        oldest = (datetime.now(UTC) - min(_aware(at) for at in written)).total_seconds() if written else 0.0
        self._metrics.outbox_oldest.labels(collection=collection).set(max(oldest, 0.0))

    async def _publish_pending(self, collection: AsyncCollection, pending: list[dict[str, Any]]) -> int:
        done: list[tuple[Any, dict[str, Any]]] = []
        published = 0
        for document in pending:
            async with self._publishing:  # a document's entries go out in order, whichever task read it
                for entry in self._ours(document):
                    published += await self._publish_once(entry)
                    done.append((document["_id"], entry))
            if len(done) >= PULL_BATCH:
                await self._pull(collection, done)
                done = []
        await self._pull(collection, done)
        return published

    @staticmethod
    def _ours(document: dict[str, Any]) -> list[dict[str, Any]]:
        """The document's entries this process publishes: its own, and those another replica left too long."""
        orphaned_before = datetime.now(UTC) - TAKEOVER
        return [entry for entry in document["outbox"]
                if entry.get("writer") == _writer["id"] or entry.get("written_at", orphaned_before) <= orphaned_before]

    async def _publish_once(self, entry: dict[str, Any]) -> int:
        """Publish the entry unless this process has lately (the other task, or the same event written twice)."""
        if entry["id"] in self._published:
            return 0
        self._published[entry["id"]] = None
        try:
            await self._publish(entry)
        except BaseException:
            del self._published[entry["id"]]
            raise
        if len(self._published) > REMEMBER_PUBLISHED:
            del self._published[next(iter(self._published))]
        return 1

    async def _pull(self, collection: AsyncCollection, done: list[tuple[Any, dict[str, Any]]]) -> None:
        """Remove published entries; a crash before this republishes them with the same ids."""
        for document_id, entry in done:  # one update each: FerretDB 1.24 hung on a bulk write of these
            async with self._locked(collection.name, document_id):  # a writer's turn on this document (the store's)
                await collection.update_one({"_id": document_id}, {"$pull": {"outbox": entry}})

    async def _publish(self, entry: dict[str, Any]) -> None:
        headers, key, value = encode(
            id=entry["id"], type=entry["type"], source=self._source, time=entry["time"], key=entry["key"], data=entry["data"]
        )
        text_headers = {name: raw.decode() for name, raw in headers.items()}
        if entry.get("traceparent"):  # the recording handler's context (tracing replaces it with its own span's)
            text_headers["traceparent"] = str(entry["traceparent"])
        with continued(entry):
            await self._broker.publish(
                value,
                topic=entry["topic"],
                key=key,
                headers=text_headers,
                correlation_id=entry["id"],
            )
        log.info("event_published", event_type=entry["type"], event_id=entry["id"], conference_id=entry["key"])

    async def _run(self) -> None:
        """Publish the documents writers name, as they name them; pull what was published when the writers pause."""
        loop = asyncio.get_running_loop()
        while True:
            if self._unpulled:
                try:
                    await asyncio.wait_for(self._wake.wait(), PULL_AFTER)
                except TimeoutError:
                    await self._pull_or_wait()
                    continue
            else:
                await self._wake.wait()
            self._wake.clear()
            self._draining = True
            try:
                await self.drain(sweep=False, defer_pulls=True)
                if len(self._unpulled) >= PULL_BATCH or loop.time() - self._unpulled_since >= PULL_WITHIN:
                    await self._pull_unpulled()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # store or broker away: try again shortly
                log.warning("outbox_relay_failed", error=type(error).__name__)
                await asyncio.sleep(1.0)
                self._wake.set()
            finally:
                self._draining = False

    async def _pull_or_wait(self) -> None:
        try:
            await self._pull_unpulled()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # store away: the entries stay, and are pulled next time
            log.warning("outbox_pull_failed", error=type(error).__name__)
            await asyncio.sleep(1.0)

    async def settled(self, step: float = 0.002) -> None:
        """Return once what writers have handed over or named so far has been published (a simulated clock's
        timers wait on this before they say they are done; see `Service.timer`)."""
        while self._draining or self._wake.is_set() or self._handed or any(self._written.values()):
            await asyncio.sleep(step)

    async def _sweep_now_and_then(self) -> None:
        """Look through every document at start-up and every `sweep` seconds, in a task of its own: on FerretDB
        a sweep reads whole collections (seconds, in a long test session), and the events writers name
        must not wait behind it. An entry both tasks read is published once (`_publish_once`)."""
        loop = asyncio.get_running_loop()
        first = True
        while True:
            began = loop.time()
            try:
                published = await self.drain(sweep=True, leave_fresh=not first)
                first = False
                took = loop.time() - began
                if took > 1.0 or published:
                    log.info("outbox_swept", seconds=round(took, 1), published=published)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("outbox_sweep_failed", error=type(error).__name__)
                await asyncio.sleep(min(1.0, self._sweep))
                continue
            # A sweep reads whole collections on FerretDB, longer as they grow (a simulated year): it never takes
            # more than a share of the store's time, however large they are.
            await asyncio.sleep(sweep_pause(self._sweep, took))


def sweep_pause(sweep: float, took: float) -> float:
    """Seconds until the next sweep: `sweep`, or long enough that sweeping takes SWEEP_SHARE of the time."""
    return max(sweep, took * (1 - SWEEP_SHARE) / SWEEP_SHARE)


@contextlib.asynccontextmanager
async def _unlocked(collection: str, document_id: Hashable) -> AsyncIterator[None]:
    yield


def _aware(at: datetime) -> datetime:
    """The store may hand back naive UTC datetimes."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)
