"""How far a consumer group has read a topic, from Kafka's offsets: whether an event that waits for another has
waited long enough.

An outcome for a conference this service has not seen waits for the conference's scheduling, which another topic
carries and which was published before the outcome could be recorded. Once the group reading that topic has
committed past everything the topic held when the outcome first came, the scheduling never will come: the outcome
is about a conference unknown for good (a mistyped id, hostile input), and waiting longer would only hold its
partition.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

REMEMBER_WAITERS = 10_000


async def partitions_of(client_options: dict[str, Any], topics: list[str]) -> dict[str, list[int]]:
    """Each topic's partitions, as the cluster describes them now (none for a topic not there). A consumer that
    subscribes to nothing knows no topic's partitions: its metadata covers only what it subscribes to."""
    admin = AIOKafkaAdminClient(**client_options)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    found = {topic["topic"]: sorted(p["partition"] for p in topic["partitions"]) for topic in described
             if not topic["error_code"]}
    return {topic: found.get(topic, []) for topic in topics}


class GroupProgress:
    """`group`'s progress on `topic`; a client of its own, made when first asked, closed by `close`."""

    def __init__(self, client_options: dict[str, Any], topic: str, group: str) -> None:
        self._options, self.topic, self.group = client_options, topic, group
        self._consumer: AIOKafkaConsumer | None = None
        self._snapshots: OrderedDict[str, dict[TopicPartition, int]] = OrderedDict()

    async def read_past(self, waiter: str) -> bool:
        """Whether the group has committed past every record the topic held when `waiter` first asked."""
        consumer = await self._client()
        snapshot = self._snapshots.get(waiter)
        if snapshot is None:
            partitions = (await partitions_of(self._options, [self.topic]))[self.topic]
            if not partitions:
                return False  # a topic not there (yet): nothing to tell
            snapshot = await consumer.end_offsets([TopicPartition(self.topic, p) for p in partitions])
            self._snapshots[waiter] = snapshot
            while len(self._snapshots) > REMEMBER_WAITERS:
                self._snapshots.popitem(last=False)
        for partition, end in snapshot.items():
            if end and (await consumer.committed(partition) or 0) < end:
                return False
        self._snapshots.pop(waiter, None)
        return True

    async def _client(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            # A member of no group (it never subscribes): it reads the group's committed offsets, nothing else.
            consumer = AIOKafkaConsumer(group_id=self.group, enable_auto_commit=False, **self._options)
            await consumer.start()
            self._consumer = consumer
        return self._consumer

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
