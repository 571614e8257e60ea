"""Reads what the services published: every record on the cpc.* topics, decoded."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    CoordinatorLoadInProgressError,
    CoordinatorNotAvailableError,
    GroupLoadInProgressError,
    KafkaError,
)


@dataclass(frozen=True)
class Seen:
    topic: str
    type: str
    key: str | None
    headers: dict[str, str]
    data: Any
    published: int | None = None  # the record's Kafka timestamp, in milliseconds


def decoded(record: ConsumerRecord) -> Seen:
    headers = {k: (v or b"").decode(errors="replace") for k, v in (record.headers or ())}
    try:
        data = json.loads(record.value) if record.value else None
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python parses: kept as bytes
        data = record.value
    return Seen(record.topic, headers.get("ce_type", ""), record.key.decode() if record.key else None, headers, data,
                record.timestamp)


async def end_offsets(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or await _parts(consumer, t))]
        return await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def _parts(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # noqa: SLF001 - metadata for topics not subscribed
    return consumer.partitions_for_topic(topic) or set()


class Watcher:
    """Collects every record published to `topics` from the moment it starts."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self.seen: list[Seen] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Watcher:
        start = await end_offsets(self._bootstrap, self._topics)
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
        await self._consumer.start()
        self._consumer.assign(list(start))
        for partition, offset in start.items():
            self._consumer.seek(partition, offset)
        self._task = asyncio.create_task(self._collect())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        try:
            await self._consumer.stop()
        except asyncio.CancelledError:  # aiokafka lets a fetch's cancelled retry back-off escape from stop()
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    async def _collect(self) -> None:
        while True:
            try:
                batch = await self._consumer.getmany(timeout_ms=300)
            except KafkaError:  # a slow broker (a fetch timed out): keep watching
                await asyncio.sleep(0.5)
                continue
            for records in batch.values():
                self.seen.extend(decoded(r) for r in records)

    def of_type(self, event_type: str, **fields: Any) -> list[Seen]:
        return [s for s in self.seen if s.type == event_type and isinstance(s.data, dict)
                and all(s.data.get(k) == v for k, v in fields.items())]

    async def until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until `condition()` holds; False if it still doesn't after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.2)
        return True


async def _groups(admin: AIOKafkaAdminClient, prefix: str, patience: float = 60.0) -> list[str]:
    """The consumer groups named `prefix...`. A broker that has just started answers "still loading" for a while
    (GroupLoadInProgress, CoordinatorLoadInProgress): that is waited out, not reported."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        try:
            return [group for group, _ in await admin.list_consumer_groups() if group.startswith(prefix)]
        except (GroupLoadInProgressError, CoordinatorLoadInProgressError, CoordinatorNotAvailableError):
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def consumer_lag(bootstrap: str, prefix: str = "cpc-") -> dict[str, int]:
    """Records each of the services' consumer groups has still to handle (end offset minus committed)."""
    async with LagProbe(bootstrap, prefix) as probe:
        return await probe.lag()


class LagProbe:
    """Asks the broker, as often as needed over one pair of connections, how far behind the services' consumer
    groups (`prefix...`) are."""

    RELIST = 50

    def __init__(self, bootstrap: str, prefix: str = "cpc-") -> None:
        self._bootstrap, self._prefix = bootstrap, prefix
        self._groups: list[str] = []
        self._calls = 0

    async def __aenter__(self) -> LagProbe:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        await self._admin.start()
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
        try:
            await self._consumer.start()
        except BaseException:
            await self._admin.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._consumer.stop()
        finally:
            await self._admin.close()

    async def lag(self) -> dict[str, int]:
        """Records each group has still to handle (end offset minus committed). The groups are listed on each of the
        first `RELIST` calls (services just started join theirs), then every `RELIST` calls; their offsets are asked
        for side by side."""
        if self._calls < self.RELIST or self._calls % self.RELIST == 0:  # every time while the services start
            self._groups = await _groups(self._admin, self._prefix)
        self._calls += 1
        offsets = await asyncio.gather(*(self._admin.list_consumer_group_offsets(group) for group in self._groups))
        committed = dict(zip(self._groups, offsets, strict=True))
        topics = sorted({tp.topic for offsets in committed.values() for tp in offsets})
        partitions = [TopicPartition(t, p) for t in topics
                      for p in (self._consumer.partitions_for_topic(t) or await _parts(self._consumer, t))]
        ends = await self._consumer.end_offsets(partitions) if partitions else {}
        lag = {}
        for group, offsets in committed.items():
            topic_of_group = {tp.topic for tp in offsets}
            lag[group] = sum(end - (offsets[tp].offset if tp in offsets else 0)
                             for tp, end in ends.items() if tp.topic in topic_of_group)
        return lag


async def skip_to_end(bootstrap: str, prefix: str = "cpc-", patience: float = 30.0) -> int:
    """Move the services' consumer groups (`<prefix><service>.<topic>`, stopped) to their topics' end, so
    they handle only what is published from now: a simulation on fresh databases must not meet the
    events a stopped or killed earlier run left unread. Returns how many records were skipped."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        groups = await _groups(admin, prefix)
    finally:
        await admin.close()
    lag = await consumer_lag(bootstrap, prefix)
    loop = asyncio.get_running_loop()
    for group in groups:
        ends = await end_offsets(bootstrap, [group.split(".", 1)[1]])
        deadline = loop.time() + patience
        while True:
            consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
            await consumer.start()
            try:
                consumer.assign(list(ends))
                await consumer.commit(dict(ends))
                break
            except KafkaError:  # a killed service's member has not timed out of the group yet
                if loop.time() > deadline:
                    raise
            finally:
                await consumer.stop()
            await asyncio.sleep(1)
    return sum(lag.get(group, 0) for group in groups)
