"""What every service process is made of: broker, store, outbox relay, clock, health endpoints."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import uvicorn
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.specification import AsyncAPI
from pydantic import BaseModel
from pymongo.asynchronous.database import AsyncDatabase

from cpc_shared.asyncapi import document_events
from cpc_shared.broker import make_broker
from cpc_shared.clock import OffsetFileClock
from cpc_shared.consumer import EventConsumer, Route
from cpc_shared.http import with_api
from cpc_shared.logging import configure_logging, get_logger
from cpc_shared.metrics import CONTENT_TYPE, Metrics
from cpc_shared.outbox import OutboxRelay, set_writer
from cpc_shared.repository import DocumentStore
from cpc_shared.settings import ServiceSettings
from cpc_shared.store import connect, learn_store
from cpc_shared.tracing import broker_middleware, configure_tracing

log = get_logger(__name__)


class Service:
    def __init__(
        self,
        name: str,
        settings: ServiceSettings,
        *,
        outbox_collections: Sequence[str],
        prepare_store: Callable[[AsyncDatabase], Awaitable[None]],
        description: str,
    ) -> None:
        configure_logging(name, settings.log_level)
        self.name = name
        self.settings = settings
        self.description = description
        self.clock = settings.clock()
        self.metrics = Metrics()
        self.tracer_provider = configure_tracing(name)
        self.broker = make_broker(settings, client_id=f"cpc-{name}", middlewares=[
            *broker_middleware(self.tracer_provider),
            KafkaPrometheusMiddleware(registry=self.metrics.registry, app_name=f"cpc-{name}"),
        ])
        self.client, self.db = connect(settings, name)
        # FerretDB 1.x loses one of two concurrent updates to a document: writes to one document take turns
        # (the store's lock per document); MongoDB needs no turns.
        self.store = DocumentStore(self.db, settings.store_semantics)
        set_writer(f"{socket.gethostname()}:{settings.http_port}")
        self.relay = OutboxRelay(
            self.db, list(outbox_collections), self.broker, source=f"/cpc/{name}", sweep=settings.outbox_sweep_seconds,
            locked=self.store.locked, metrics=self.metrics,
        )
        self._prepare_store = prepare_store
        self._http_routes: list[tuple[str, Any]] = []
        self.offsets_read: list[tuple[str, tuple[str, ...]]] = []
        self._api: Any = None
        self._api_prefixes: tuple[str, ...] = ("/api",)
        self._background: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._closing: list[Callable[[], Awaitable[None]]] = []

    def group_for(self, topic: str) -> str:
        """The consumer group this service reads `topic` in."""
        return f"cpc-{self.name}.{topic}"

    def consume(self, topic: str, routes: dict[str, Route], *, dead_letter_invalid: bool = True) -> EventConsumer:
        return EventConsumer(
            self.broker,
            topic=topic,
            group_id=self.group_for(topic),
            routes=routes,
            attempts=self.settings.retry_attempts,
            backoff=self.settings.retry_backoff_seconds,
            dead_letter_invalid=dead_letter_invalid,
            inbox=self.db["inbox"],
            wait_limit=self.settings.wait_for_missing_seconds,
            metrics=self.metrics,
        )

    def publishes(self, *models: type[BaseModel]) -> None:
        """Declare the events this service publishes, for its AsyncAPI document."""
        document_events(self.broker, list(models))

    def reads_offsets(self, group: str, topics: Sequence[str]) -> None:
        """Declare topics whose offsets, and `group`'s committed offsets on them, this service reads beyond its own
        subscriptions (Describe in the chart's ACLs; tests/integration/test_chart.py checks them against this)."""
        self.offsets_read.append((group, tuple(topics)))

    def on_close(self, job: Callable[[], Awaitable[None]]) -> None:
        """Run `job` as the service stops (a client of its own to close)."""
        self._closing.append(job)

    def route(self, path: str, handler: Any) -> None:
        self._http_routes.append((path, handler))

    def mount_api(self, api: Any, prefixes: tuple[str, ...] = ("/api",)) -> None:
        """Serve an HTTP API (a FastAPI app whose routes start with one of `prefixes`) from this process."""
        self._api, self._api_prefixes = api, prefixes

    def every(self, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        """Run `job` periodically while the service is up (expiry sweeps)."""

        async def loop() -> None:
            while True:
                await self._run_job(job)
                await asyncio.sleep(seconds)

        self._background.append(loop)

    def timer(self, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        """Run `job`, which does what has fallen due on the service's clock, every `seconds`. On a clock
        moved by a file (a simulation), each look that went well is then told beside it, once what it wrote has been
        published: the simulation moves its clock on only when every timer has looked since the services caught up."""
        clock = self.clock if isinstance(self.clock, OffsetFileClock) else None

        async def loop() -> None:
            while True:
                started, offset = time.time(), clock.offset() if clock else 0.0
                if await self._run_job(job) and clock is not None:
                    await self.relay.settled()
                    clock.looked(f"{self.name}.{job.__name__}", offset, started)
                await asyncio.sleep(seconds)

        self._background.append(loop)

    @staticmethod
    async def _run_job(job: Callable[[], Awaitable[object]]) -> bool:
        try:
            await job()
        except Exception as error:
            log.warning("periodic_job_failed", job=job.__name__, error=type(error).__name__)
            return False
        return True

    def app(self) -> Any:
        stream_app = self.stream_app()
        return with_api(stream_app, self._api, self._api_prefixes) if self._api is not None else stream_app

    def stream_app(self) -> AsgiFastStream:
        tasks: list[asyncio.Task[None]] = []

        @get(include_in_schema=False)
        async def live(scope: Any) -> AsgiResponse:
            return AsgiResponse(b'{"status":"alive"}', 200, headers={"content-type": "application/json"})

        @get(include_in_schema=False)
        async def ready(scope: Any) -> AsgiResponse:
            try:
                await asyncio.wait_for(self.db.command("ping"), 2)
                broker_ok = await self.broker.ping(timeout=2)
            except Exception:
                broker_ok = False
            if not broker_ok:
                return AsgiResponse(b'{"status":"not ready"}', 503, headers={"content-type": "application/json"})
            return AsgiResponse(b'{"status":"ready"}', 200, headers={"content-type": "application/json"})

        @get(include_in_schema=False)
        async def outbox(scope: Any) -> AsgiResponse:
            """Documents whose events are not all published yet (counted now: it reads whole collections)."""
            body = json.dumps({"pending_documents": await self.relay.pending()}).encode()
            return AsgiResponse(body, 200, headers={"content-type": "application/json"})

        @get(include_in_schema=False)
        async def metrics(scope: Any) -> AsgiResponse:
            return AsgiResponse(await self.metrics.exposition(), 200, headers={"content-type": CONTENT_TYPE})

        async def on_startup() -> None:
            await learn_store(self.db, self.store)
            await self._prepare_store(self.db)

        async def after_startup() -> None:
            await self.relay.start()
            tasks.extend(asyncio.create_task(job()) for job in self._background)
            asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, _dump_tasks)
            log.info("service_started", port=self.settings.http_port)

        async def on_shutdown() -> None:
            for task in tasks:
                task.cancel()
            await self.relay.stop()
            for job in self._closing:
                await job()

        async def after_shutdown() -> None:
            await self.client.close()
            if self.tracer_provider is not None:  # the spans still batched go out now
                await asyncio.to_thread(self.tracer_provider.shutdown)

        return AsgiFastStream(
            self.broker,
            asgi_routes=[("/health/live", live), ("/health/ready", ready), ("/metrics", metrics), ("/health/outbox", outbox),
                         *self._http_routes],
            on_startup=[on_startup],
            after_startup=[after_startup],
            on_shutdown=[on_shutdown],
            after_shutdown=[after_shutdown],
            specification=AsyncAPI(self.broker, title=f"cpc-{self.name}", description=self.description),
            asyncapi_path="/asyncapi",
        )

    def run(self) -> None:
        uvicorn.run(
            self.app(),
            host=self.settings.http_host,
            port=self.settings.http_port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
        )


def _dump_tasks() -> None:
    """`kill -USR1 <pid>`: log where every task of the process is waiting (for an operator's diagnosis)."""
    for task in asyncio.all_tasks():
        stack: list[str] = []
        awaited: Any = task.get_coro()
        while awaited is not None and len(stack) < 20:
            frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
            if frame is not None:
                stack.append(f"{frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno} {frame.f_code.co_name}")
            awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
        log.warning("task_stack", task=task.get_name(), stack=stack)
