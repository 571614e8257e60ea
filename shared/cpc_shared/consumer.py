"""Subscriber plumbing: every message is parsed, validated, handled once, then acknowledged.

- The offset is committed only after the handler has stored its effect (manual acknowledgement).
- Bad input (not a CloudEvent, unknown type, invalid body, a domain rejection) goes to
  `<topic>.dlq` with the reason in headers, is logged once, and the consumer goes on.
- Transient faults (store or broker away) are retried with backoff; when the attempts run out the
  consumer seeks back to the failed record, so a later record's commit can never skip it
  (FastStream issue #2618): the partition waits until the fault clears.
- An event that waits for another that never comes (NotYet: e.g. a conference this service has never
  heard of) is dead-lettered with the reason after `wait_limit` seconds, so one stray record cannot
  hold its partition for ever; it can be replayed once what it waited for is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import BaseModel, ValidationError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from cpc_shared.contracts.catalogue import CATALOGUE, Topics
from cpc_shared.envelope import MAX_BODY_BYTES, MAX_HEADER_BYTES, BadEvent, Envelope, decode, printable
from cpc_shared.logging import bound_contextvars, get_logger
from cpc_shared.metrics import Metrics
from cpc_shared.store import TRANSIENT_STORE_ERRORS

log = get_logger(__name__)


class Rejected(BadEvent):
    """A well-formed event the domain refuses (e.g. an outcome for an unknown conference)."""


class NotYet(Exception):
    """The event depends on something not yet seen (e.g. contact details still in flight): try later, and
    dead-letter it if that never comes."""


class Unavailable(Exception):
    """Something the handler needs is away for now (e.g. the mail server): try again until it is back."""


DEAD_LETTER_HEADERS = 32  # of the record's own headers, kept on its dead letter

TRANSIENT: tuple[type[Exception], ...] = (*TRANSIENT_STORE_ERRORS, KafkaError, NotYet, Unavailable, TimeoutError)

Handler = Callable[[Any, Envelope], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    model: type[BaseModel]
    handler: Handler


def validation_reason(error: ValidationError) -> str:
    """Where and why validation failed, without echoing the input (it may hold personal data)."""
    problems = []
    for item in error.errors(include_url=False, include_input=False, include_context=False)[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "body"
        problems.append(f"{where}: {item['msg']}")
    return "invalid body: " + "; ".join(problems)


class EventConsumer:
    """Dispatches the records of one topic to the handlers of one service, by `ce_type`."""

    def __init__(
        self,
        broker: KafkaBroker,
        *,
        topic: str,
        group_id: str,
        routes: dict[str, Route],
        attempts: int = 5,
        backoff: float = 0.2,
        dead_letter_invalid: bool = True,
        inbox: AsyncCollection | None = None,
        lock: asyncio.Lock | None = None,
        wait_limit: float = 300.0,
        metrics: Metrics | None = None,
    ) -> None:
        self._broker = broker
        self.topic = topic
        self._group_id = group_id
        self._routes = routes
        self._attempts = attempts
        self._backoff = backoff
        # Invalid input is dead-lettered once, by the topic's main consumer; another service that also
        # reads the topic (notifications reads contact details from the inbound topic) skips it.
        self._dead_letter_invalid = dead_letter_invalid
        self._inbox = inbox
        # The ids of the events this group has handled, read from the inbox once the partitions are this process's
        # (and again after each rebalance), then kept as they are handled: a record's id is looked up here, not in
        # the store. Every copy of an event has the same key, so the same partition, and while a partition is held
        # here no other process handles its records.
        self._handled: set[str] | None = None
        self._generation = 0
        self._lock = lock or asyncio.Lock()
        self._strict = topic == Topics.CASEMGMT
        self._wait_limit = wait_limit
        self._waiting_since: dict[tuple[int, int], float] = {}  # (partition, offset) -> first NotYet
        self._metrics = metrics
        self._lag_shown: set[tuple[str, int]] = set()
        if metrics is not None:
            if dead_letter_invalid:
                metrics.expect_dead_letters(topic)
            metrics.on_scrape(f"lag {group_id}", self.measure_lag)
        self._subscriber = broker.subscriber(
            topic,
            group_id=group_id,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            decoder=_raw_body,
            parser=_lenient_parser,
            title=f"{group_id}:{topic}",
            listener=_ForgetOnRebalance(self),
        )
        self._subscriber(self._on_message)

    async def _on_message(self, body: bytes, msg: KafkaMessage) -> None:
        try:
            await self._dispatch(msg)
        except Exception as error:  # e.g. the dead-letter publish failed: never commit past this record
            log.warning("redelivering_after_failure", error=type(error).__name__)
            await asyncio.sleep(self._backoff)
            await msg.nack()

    async def _dispatch(self, msg: KafkaMessage) -> None:
        record = _record(msg)
        headers = {name: value or b"" for name, value in (record.headers or ())}
        try:
            envelope = decode(headers, record.key, record.value or b"")
        except BadEvent as bad:
            await self._reject_invalid(msg, bad.reason, "malformed")
            return
        # Logged as the sender wrote them, but only in the characters an id or a type is made of.
        with bound_contextvars(event_id=printable(envelope.id.encode()), event_type=printable(envelope.type.encode()),
                               correlation_id=printable((envelope.subject or envelope.id).encode())):
            route = self._routes.get(envelope.type)
            if route is None:
                if self._strict and not (envelope.type in CATALOGUE and envelope.type.startswith("casemgmt.")):
                    await self._reject_invalid(msg, f"unknown ce_type {printable(envelope.type.encode())}", "unknown_type")
                else:
                    await msg.ack()
                return
            try:
                event = route.model.model_validate(envelope.data)
            except ValidationError as error:
                await self._reject_invalid(msg, validation_reason(error), "invalid_body")
                return
            await self._handle(msg, route, event, envelope)

    async def _handle(self, msg: KafkaMessage, route: Route, event: BaseModel, envelope: Envelope) -> None:
        delay = self._backoff
        last_fault: Exception | None = None
        for attempt in range(1, self._attempts + 1):
            try:
                async with self._lock:  # this subscriber's events one at a time (a record is handled whole)
                    if not await self._already_handled(envelope):
                        await route.handler(event, envelope)
                        await self._remember(envelope)
            except Rejected as rejected:
                await self._dead_letter(msg, rejected.reason, "rejected")
                return
            except TRANSIENT as fault:
                log.warning("transient_fault", attempt=attempt, error=type(fault).__name__)
                last_fault = fault
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            except Exception as error:  # a bug: park the event in the dead-letter topic, to replay after a fix
                log.exception("handler_failed", error=type(error).__name__)
                await self._dead_letter(msg, f"handler error: {type(error).__name__}", "handler_error")
                return
            self._waiting_since.pop(_place(msg), None)
            await msg.ack()
            return
        if isinstance(last_fault, NotYet):
            waited = time.monotonic() - self._waiting_since.setdefault(_place(msg), time.monotonic())
            if waited >= self._wait_limit:
                await self._dead_letter(msg, f"gave up waiting after {waited:.0f} s: {last_fault}", "gave_up_waiting")
                return
        log.warning("redelivering_after_transient_faults", attempts=self._attempts)
        await msg.nack()  # seek back: the same record comes again, nothing after it is committed first

    # Handlers are idempotent by construction; the inbox only spares them events they have handled.
    async def _already_handled(self, envelope: Envelope) -> bool:
        if self._inbox is None:
            return False
        handled = self._handled
        while handled is None:
            generation = self._generation
            handled = await self._handled_so_far()
            if generation != self._generation:  # a rebalance while reading: what was read may be out of date
                handled = None
        self._handled = handled
        return envelope.id in handled

    async def _handled_so_far(self) -> set[str]:
        """The ids in this group's part of the inbox: one read, of ids only ("|" and "}" are neighbours in ASCII)."""
        assert self._inbox is not None
        prefix = f"{self._group_id}|"
        found = self._inbox.find({"_id": {"$gte": prefix, "$lt": f"{self._group_id}}}"}}, {"_id": 1})
        return {document["_id"][len(prefix):] async for document in found}

    def forget_handled(self) -> None:
        """Partitions came or went: what another process handled meanwhile is read again before the next record."""
        self._handled = None
        self._generation += 1

    async def _remember(self, envelope: Envelope) -> None:
        # An insert, not an upsert: the same answer (there once), at about half the store's work on FerretDB, where
        # an upsert is a read and a write.
        if self._inbox is not None:
            with contextlib.suppress(DuplicateKeyError):  # remembered already: handled twice at once, or retried
                await self._inbox.insert_one({"_id": f"{self._group_id}|{envelope.id}", "at": datetime.now(UTC)})
            if self._handled is not None:
                self._handled.add(envelope.id)

    async def _reject_invalid(self, msg: KafkaMessage, reason: str, kind: str) -> None:
        if self._dead_letter_invalid:
            await self._dead_letter(msg, reason, kind)
        else:
            log.info("skipped_invalid", reason=reason)
            await msg.ack()

    async def _dead_letter(self, msg: KafkaMessage, reason: str, kind: str) -> None:
        """Park the record in `<topic>.dlq` with `reason`; `kind` (one of metrics.DEAD_LETTER_REASONS) counts it."""
        self._waiting_since.pop(_place(msg), None)  # whatever it waited for, it waits no more
        record = _record(msg)
        # The record as it came, so it can be replayed; but a dead letter must itself fit in a Kafka record, so a
        # body over the size any event may have is left out (it could never be handled anyway), and of the
        # headers only the first few, each cut short, are kept.
        value = record.value or b""
        headers = {name[:MAX_HEADER_BYTES]: (raw or b"")[:MAX_HEADER_BYTES].decode(errors="replace")
                   for name, raw in (record.headers or ())[:DEAD_LETTER_HEADERS]}
        if len(value) > MAX_BODY_BYTES:
            headers["dlq_body_omitted"] = f"{len(value)} bytes"
            value = b""
        headers.update(
            {
                "dlq_reason": reason,
                "dlq_topic": record.topic,
                "dlq_consumer": self._group_id,
                "dlq_partition": str(record.partition),
                "dlq_offset": str(record.offset),
                "dlq_at": datetime.now(UTC).isoformat(),
            }
        )
        await self._broker.publish(value, topic=Topics.dead_letter(record.topic), key=record.key, headers=headers)
        log.warning("dead_lettered", reason=reason, topic=record.topic, partition=record.partition, offset=record.offset)
        if self._metrics is not None:
            self._metrics.dead_lettered(record.topic, kind)
        await msg.ack()

    async def measure_lag(self) -> None:
        """Set the lag of each partition this process reads: its end offset less the group's committed offset."""
        assert self._metrics is not None
        consumer = self._subscriber.consumer
        assigned = list(consumer.assignment()) if consumer is not None else []
        shown: set[tuple[str, int]] = set()
        if consumer is not None and assigned:
            ends = await consumer.end_offsets(assigned)
            committed = {tp: await consumer.committed(tp) for tp in assigned}
            never = [tp for tp, offset in committed.items() if offset is None]
            starts = await consumer.beginning_offsets(never) if never else {}
            for tp in assigned:
                done = committed[tp] if committed[tp] is not None else starts[tp]
                self._metrics.consumer_lag.labels(group=self._group_id, topic=tp.topic, partition=str(tp.partition)).set(
                    max(ends[tp] - done, 0))
                shown.add((tp.topic, tp.partition))
        for topic, partition in self._lag_shown - shown:  # no longer read here: another replica tells its lag
            self._metrics.consumer_lag.remove(self._group_id, topic, str(partition))
        self._lag_shown = shown


class _ForgetOnRebalance(ConsumerRebalanceListener):
    def __init__(self, consumer: EventConsumer) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self._consumer.forget_handled()

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self._consumer.forget_handled()


def _record(msg: KafkaMessage) -> ConsumerRecord[bytes, bytes]:
    """The record behind a message: one, since no subscriber here reads in batches."""
    return cast("ConsumerRecord[bytes, bytes]", msg.raw_message)


def _place(msg: KafkaMessage) -> tuple[int, int]:
    record = _record(msg)
    return record.partition, record.offset


async def _lenient_parser(record: ConsumerRecord[bytes, bytes], original: Callable[..., Awaitable[Any]]) -> Any:
    """FastStream's parser, but a header value that is not UTF-8 no longer makes it fail before our code runs (it
    logged the error and went on: the record was neither handled nor dead-lettered). The record itself is kept as
    it came, for decode() to refuse and the dead letter to carry."""
    if all(_utf8(value) for _, value in record.headers or ()):
        return await original(record)
    readable = dataclasses.replace(
        record, headers=[(name, (value or b"").decode(errors="replace").encode()) for name, value in record.headers])
    message = await original(readable)
    message.raw_message = record
    return message


def _utf8(value: bytes | None) -> bool:
    try:
        (value or b"").decode()
    except UnicodeDecodeError:
        return False
    return True


async def _raw_body(msg: KafkaMessage) -> bytes:
    # Parsing is ours (to dead-letter what fails), so the framework hands over the bytes untouched.
    return msg.body
