"""In-memory stand-ins for the store and the relay, for fast tests of a service's handlers (no database).

They keep the semantics the handlers rely on: `_id` unique, conditional updates, the outbox array."""

from __future__ import annotations

import contextlib
import copy
from collections import defaultdict
from collections.abc import AsyncIterator, Hashable, Sequence
from typing import Any

from cpc_shared.repository import DocumentStore
from cpc_shared.store import matches


class InMemoryStore(DocumentStore):
    def __init__(self) -> None:
        self.collections: defaultdict[str, dict[Hashable, dict[str, Any]]] = defaultdict(dict)

    @contextlib.asynccontextmanager
    async def locked(self, collection: str, document_id: Hashable) -> AsyncIterator[None]:
        yield

    async def find(self, collection: str, document_id: Hashable) -> dict[str, Any] | None:
        return copy.deepcopy(self.collections[collection].get(document_id))

    async def find_many(self, collection: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: copy.deepcopy(v) for k, v in document.items() if k != "outbox"}
                for document in self.collections[collection].values() if matches(document, query)]

    async def insert(self, collection: str, document: dict[str, Any]) -> bool:
        if document["_id"] in self.collections[collection]:
            return False
        self.collections[collection][document["_id"]] = copy.deepcopy(document)
        return True

    async def find_ids(self, collection: str, document_ids: Sequence[Hashable]) -> list[dict[str, Any]]:
        return [copy.deepcopy(self.collections[collection][i]) for i in document_ids
                if i in self.collections[collection]]

    async def insert_many(self, collection: str, documents: list[dict[str, Any]]) -> set[Hashable]:
        return {document["_id"] for document in documents if not await self.insert(collection, document)}

    async def delete_many_if(self, collection: str, document_ids: Sequence[Hashable], expect: dict[str, Any]) -> int:
        documents = self.collections[collection]
        gone = [i for i in dict.fromkeys(document_ids) if i in documents and matches(documents[i], expect)]
        for document_id in gone:
            del documents[document_id]
        return len(gone)

    async def update_if(self, collection: str, document_id: Hashable, expect: dict[str, Any],
                        update: dict[str, Any]) -> bool:
        document = self.collections[collection].get(document_id)
        if not matches(document, expect):
            return False
        assert document is not None
        for operator, fields in update.items():
            for field, value in fields.items():
                if operator == "$set":
                    document[field] = copy.deepcopy(value)
                elif operator == "$unset":
                    document.pop(field, None)
                elif operator == "$push":
                    each = value["$each"] if isinstance(value, dict) and "$each" in value else [value]
                    document.setdefault(field, []).extend(copy.deepcopy(each))
                else:
                    raise ValueError(f"the in-memory store does not know {operator}")
        return True

    def outbox(self, collection: str) -> list[dict[str, Any]]:
        """Every event written to the collection's outboxes, in the order of the documents."""
        return [entry for document in self.collections[collection].values() for entry in document.get("outbox", [])]


class RecordingRelay:
    def __init__(self) -> None:
        self.notified: list[tuple[str, Hashable]] = []

    def notify(self, collection: str, *document_ids: Hashable) -> None:
        self.notified.extend((collection, document_id) for document_id in document_ids)

    def hand_over(self, collection: str, document_id: Hashable, entries: list[dict[str, Any]]) -> None:
        self.notified.append((collection, document_id))

    def published_here(self, entry_ids: list[str]) -> bool:
        return False
