"""The document store: PyMongo's async client (the maintained successor of motor).

Only single-document atomic writes are used: FerretDB, our development store, has no transactions.
"""

from __future__ import annotations

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect, ConnectionFailure, NetworkTimeout, ServerSelectionTimeoutError

from cpc_shared.settings import ServiceSettings

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
