"""Aggregates, and the one place they are written: their state and the events they record, together.

An aggregate (a booking, a report request, a conference...) is a typed object with a status and a revision
(how many times it was saved). Its transitions change it and *record* the events they cause. A repository saves
it in ONE single-document update, conditional on the revision it was read at: the new state, the revision plus
one, and the recorded events appended to the document's `outbox` array (see outbox.py). Then it hands the relay
those events (or, if the document still held older ones when read, names the document for the relay to read).
No caller writes an outbox entry or tells the relay itself.

Two writers that read the same revision cannot both save: the second gets `StaleWrite`, which a consumer
treats like any transient fault (it tries the event again, on the state as it is now).

The store's semantics live in `DocumentStore`: MongoDB's by default, where a filtered update is atomic;
FerretDB 1.x's when the settings say so (our local store), where an update is a read and a write back, so
writes to one document take turns under a lock for that document. Either way the condition sits in the
update's filter beside `_id`, which the local FerretDB finds by its index (deploy/local/cpc_stack/infra.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Hashable, Iterable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any, ClassVar, Generic, Literal, Protocol, Self, TypeVar

from pydantic import BaseModel, ConfigDict, PrivateAttr
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from cpc_shared.consumer import Unavailable
from cpc_shared.contracts.outbound import OutboundEvent
from cpc_shared.outbox import outbox_entry

StoreSemantics = Literal["mongodb", "ferretdb1"]
DUPLICATE_KEY = 11000  # the store's error code for an `_id` (or unique key) that exists already


class StaleWrite(Unavailable):
    """Another writer saved the aggregate since it was read: handle the event again on what is stored now."""


class Aggregate(BaseModel):
    """The state of one thing the service looks after, and the events its last transitions recorded."""

    model_config = ConfigDict(validate_assignment=True, use_enum_values=False)
    collection: ClassVar[str]

    id: str
    revision: int = 0  # times saved: 0 until first saved
    _recorded: list[dict[str, Any]] = PrivateAttr(default_factory=list)
    _unpublished: bool = PrivateAttr(default=False)  # read with outbox entries still pending

    def record(self, event: OutboundEvent, *, at: datetime, cause: str) -> None:
        """`event` is to be published once this state is saved (`cause` makes its id; see outbox_entry)."""
        self._recorded.append(outbox_entry(event, at=at, cause=cause))

    @property
    def recorded(self) -> list[dict[str, Any]]:
        return list(self._recorded)

    def state(self) -> dict[str, Any]:
        """What is stored, beside `_id`, `revision` and `outbox` (enums as their values, dates as ISO strings)."""
        return {field: _storable(value) for field, value in self.model_dump(mode="python", exclude={"id", "revision"}).items()}

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Self:
        fields = {k: v for k, v in document.items() if k not in ("_id", "outbox")}
        aggregate = cls.model_validate({**fields, "id": document["_id"]})
        aggregate._unpublished = bool(document.get("outbox"))
        return aggregate


def _storable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()  # BSON has date-times only
    if isinstance(value, dict):
        return {k: _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value


class Relay(Protocol):
    def notify(self, collection: str, *document_ids: Hashable) -> None: ...

    def hand_over(self, collection: str, document_id: Hashable, entries: list[dict[str, Any]]) -> None: ...

    def published_here(self, entry_ids: list[str]) -> bool: ...


class DocumentStore:
    """One service's database, with the store's semantics in this one place."""

    def __init__(self, db: AsyncDatabase, semantics: StoreSemantics = "mongodb") -> None:
        self.db = db
        self.semantics = semantics
        self._locks: weakref.WeakValueDictionary[tuple[str, Hashable], asyncio.Lock] = weakref.WeakValueDictionary()

    @contextlib.asynccontextmanager
    async def locked(self, collection: str, document_id: Hashable) -> AsyncIterator[None]:
        """Writes to one document take turns where the store needs it (FerretDB 1.x); elsewhere, no lock."""
        if self.semantics == "mongodb":
            yield
            return
        key = (collection, document_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            yield

    async def find(self, collection: str, document_id: Hashable) -> dict[str, Any] | None:
        return await self.db[collection].find_one({"_id": document_id})

    async def find_many(self, collection: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Documents matching `query`, without their outboxes, read whole (no cursor stays open during writes)."""
        return await self.db[collection].find(query, {"outbox": 0}).to_list()

    async def insert(self, collection: str, document: dict[str, Any]) -> bool:
        """False if a document with this `_id` is there already."""
        try:
            await self.db[collection].insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    async def find_ids(self, collection: str, document_ids: Sequence[Hashable]) -> list[dict[str, Any]]:
        """Those of these documents that exist, outboxes and all, in one read by `_id`."""
        return await self.db[collection].find({"_id": {"$in": document_ids}}).to_list()

    async def insert_many(self, collection: str, documents: list[dict[str, Any]]) -> set[Hashable]:
        """Insert these documents in one write; returns the `_id`s of those not inserted because a document with
        that `_id` is there already (the others are inserted all the same)."""
        try:
            await self.db[collection].insert_many(documents, ordered=False)
        except BulkWriteError as error:
            problems = error.details.get("writeErrors", [])
            if not problems or any(problem.get("code") != DUPLICATE_KEY for problem in problems):
                raise
            return {documents[problem["index"]]["_id"] for problem in problems}
        return set()

    async def update_if(self, collection: str, document_id: Hashable, expect: dict[str, Any],
                        update: dict[str, Any]) -> bool:
        """Apply `update` if the document's fields are as `expect`ed; True if they were."""
        async with self.locked(collection, document_id):
            result = await self.db[collection].update_one({"_id": document_id, **expect}, update)
            return result.matched_count == 1

    async def delete_many_if(self, collection: str, document_ids: Sequence[Hashable], expect: dict[str, Any]) -> int:
        """Delete those of these documents whose fields are as `expect`ed, in one call; how many were."""
        async with contextlib.AsyncExitStack() as locks:
            for document_id in sorted(set(document_ids), key=repr):  # always in one order: two callers never deadlock
                await locks.enter_async_context(self.locked(collection, document_id))
            result = await self.db[collection].delete_many({"_id": {"$in": list(document_ids)}, **expect})
            return result.deleted_count

    async def delete_if(self, collection: str, document_id: Hashable, expect: dict[str, Any]) -> bool:
        """Delete the document if its fields are as `expect`ed; True if it was there and was."""
        async with self.locked(collection, document_id):
            result = await self.db[collection].delete_one({"_id": document_id, **expect})
            return result.deleted_count == 1


A = TypeVar("A", bound=Aggregate)


def _first_document(aggregate: Aggregate, events: list[dict[str, Any]]) -> dict[str, Any]:
    """An aggregate as first stored: its state, revision 1, and the events it recorded in its outbox."""
    return {"_id": aggregate.id, **aggregate.state(), "revision": 1, "outbox": events}


class Repository(Generic[A]):
    """Reads and saves one kind of aggregate; saving hands its recorded events to the outbox relay."""

    def __init__(self, store: DocumentStore, model: type[A], relay: Relay) -> None:
        self.store, self.model, self.relay = store, model, relay
        self.collection = model.collection

    async def get(self, aggregate_id: str) -> A | None:
        document = await self.store.find(self.collection, aggregate_id)
        return self._read(document) if document else None

    async def find(self, query: dict[str, Any]) -> list[A]:
        """Aggregates matching a query (equality, $in, $ne, $lt... on top-level fields)."""
        return [self._read(document) for document in await self.store.find_many(self.collection, query)]

    async def get_many(self, aggregate_ids: Iterable[str]) -> dict[str, A]:
        """Those of these aggregates that exist, by id, in one read."""
        wanted: list[Hashable] = list(dict.fromkeys(aggregate_ids))
        if not wanted:
            return {}
        documents = await self.store.find_ids(self.collection, wanted)
        return {document["_id"]: self._read(document) for document in documents}

    def _read(self, document: dict[str, Any]) -> A:
        aggregate = self.model.from_document(document)
        if aggregate._unpublished and self.relay.published_here([entry["id"] for entry in document["outbox"]]):
            aggregate._unpublished = False  # its entries went out from here and are pulled with the next pulls
        return aggregate

    async def add_many(self, aggregates: list[A]) -> list[A]:
        """Store new aggregates in one write; returns those not stored because one with their id exists already
        (the others are stored, each with its recorded events)."""
        if not aggregates:
            return []
        events = {aggregate.id: aggregate.recorded for aggregate in aggregates}
        documents = [_first_document(aggregate, events[aggregate.id]) for aggregate in aggregates]
        there_already = await self.store.insert_many(self.collection, documents)
        for aggregate in aggregates:
            if aggregate.id not in there_already:
                self._saved(aggregate, events[aggregate.id])
        return [aggregate for aggregate in aggregates if aggregate.id in there_already]

    async def add(self, aggregate: A) -> bool:
        """Store a new aggregate; False (nothing written) if one with its id exists already."""
        events = aggregate.recorded
        document = _first_document(aggregate, events)
        if not await self.store.insert(self.collection, document):
            return False
        self._saved(aggregate, events)
        return True

    async def save(self, aggregate: A) -> None:
        """Store the aggregate's new state and recorded events, if nobody saved it since it was read."""
        events = aggregate.recorded
        update: dict[str, Any] = {"$set": {**aggregate.state(), "revision": aggregate.revision + 1}}
        if events:
            update["$push"] = {"outbox": {"$each": events}}
        if not await self.store.update_if(self.collection, aggregate.id, {"revision": aggregate.revision}, update):
            raise StaleWrite(f"{self.collection} {aggregate.id} changed since revision {aggregate.revision}")
        self._saved(aggregate, events)

    def republish(self, aggregate_id: str) -> None:
        """Found saved already (a redelivery): whatever it recorded goes out, if it has not yet."""
        self.relay.notify(self.collection, aggregate_id)

    def _saved(self, aggregate: A, events: list[dict[str, Any]]) -> None:
        aggregate.revision += 1
        aggregate._recorded.clear()
        if not events:
            return
        if aggregate._unpublished:  # older entries first: the relay reads the document and publishes them all
            self.relay.notify(self.collection, aggregate.id)
        else:
            self.relay.hand_over(self.collection, aggregate.id, events)
