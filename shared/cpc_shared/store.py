"""The document store: PyMongo's async client (the maintained successor of motor).

Only single-document atomic writes are used: FerretDB, our development store, has no transactions.

Conditional updates go through `repository.DocumentStore.update_if`, with the condition in the update's filter
beside `_id`. On MongoDB the update is atomic. FerretDB 1.x on SQLite applies an update by reading the document
and writing it back, so there writes to one document take turns under that document's lock (see outbox.py for
replicas). FerretDB 1.24 reads every document of the collection for any filter but one on `_id` alone (measured:
~300 ms a conditional update on 200 conferences, ~1 ms by `_id` through the index); the local stack's FerretDB is
built to hand SQLite the `_id` part of any filter (deploy/local/cpc_stack/infra.py), so a filter naming `_id` costs
a read by `_id`, whatever else it names.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect, ConnectionFailure, NetworkTimeout, ServerSelectionTimeoutError

from cpc_shared.logging import get_logger
from cpc_shared.settings import ServiceSettings

if TYPE_CHECKING:
    from cpc_shared.repository import DocumentStore

# Faults worth retrying: the store is down or unreachable for a while, not a bad request.
TRANSIENT_STORE_ERRORS: tuple[type[Exception], ...] = (
    AutoReconnect,
    ConnectionFailure,
    NetworkTimeout,
    ServerSelectionTimeoutError,
)


def connect(settings: ServiceSettings, service: str) -> tuple[AsyncMongoClient, AsyncDatabase]:
    client: AsyncMongoClient = AsyncMongoClient(settings.mongodb_url, tz_aware=True, serverSelectionTimeoutMS=5000)
    return client, client[settings.database_name(service)]


log = get_logger(__name__)


async def learn_store(db: AsyncDatabase, store: DocumentStore) -> None:
    """Take the store's semantics from the settings; a FerretDB server set up as MongoDB gets FerretDB's (the
    workarounds are safe on any store, their absence is not on FerretDB 1.x), and the operator is told."""
    info = await db.client.admin.command("buildInfo")
    if "ferretdbVersion" in info and store.semantics != "ferretdb1":
        log.warning("store_semantics_corrected", configured=store.semantics, server="FerretDB",
                    hint="set CPC_STORE_SEMANTICS=ferretdb1")
        store.semantics = "ferretdb1"


def matches(document: dict[str, Any] | None, expect: dict[str, Any]) -> bool:
    """Whether `document` has the fields `expect` gives: a value, or {"$in": [...]}, {"$ne": v}, {"$size": n},
    {"$lt": v} (and $lte, $gt, $gte)."""
    if document is None:
        return False
    for field, wanted in expect.items():
        value = _comparable(document.get(field))
        if isinstance(wanted, dict):
            (operator, operand), = wanted.items()
            if operator == "$in":
                ok = value in [_comparable(v) for v in operand]
            elif operator == "$ne":
                ok = value != _comparable(operand)
            elif operator == "$size":
                ok = isinstance(value, list) and len(value) == operand
            elif operator in ("$lt", "$lte", "$gt", "$gte"):
                operand = _comparable(operand)
                ok = value is not None and {"$lt": value < operand, "$lte": value <= operand,
                                            "$gt": value > operand, "$gte": value >= operand}[operator]
            else:
                raise ValueError(f"matches() does not know {operator}")
        else:
            ok = value == _comparable(wanted)
        if not ok:
            return False
    return True


def _comparable(value: Any) -> Any:
    if isinstance(value, datetime):  # the store keeps milliseconds
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value
