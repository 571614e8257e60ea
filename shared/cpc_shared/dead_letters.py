"""Dead letters waiting: on each `<topic>.dlq`, the records `./dev replay-dlq` (its consumer group) has not yet
put back on their topic, read from Kafka's offsets. What a dead letter says stays on its topic."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from cpc_shared.contracts import Topics
from cpc_shared.progress import partitions_of

REPLAYER_GROUP = "cpc-dlq-replay"


async def waiting(client_options: dict[str, Any], topics: tuple[str, ...] = Topics.ALL) -> dict[str, int]:
    """Per topic, the dead letters on its `.dlq` twin not yet replayed: end offset less the replayer's committed
    offset (less the first offset kept, if it never replayed), summed over partitions. A topic with no dead-letter
    twin yet counts 0."""
    twins = await partitions_of(client_options, [Topics.dead_letter(topic) for topic in topics])
    consumer = AIOKafkaConsumer(group_id=REPLAYER_GROUP, enable_auto_commit=False, **client_options)
    await consumer.start()
    try:
        counts = {}
        for topic in topics:
            tps = [TopicPartition(Topics.dead_letter(topic), p) for p in twins[Topics.dead_letter(topic)]]
            if not tps:
                counts[topic] = 0
                continue
            ends = await consumer.end_offsets(tps)
            starts = await consumer.beginning_offsets(tps)
            counts[topic] = 0
            for tp in tps:
                done = await consumer.committed(tp)
                counts[topic] += max(ends[tp] - max(done if done is not None else 0, starts[tp]), 0)
        return counts
    finally:
        await consumer.stop()
