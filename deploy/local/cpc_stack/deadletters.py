"""Replaying dead letters after a fix: each record on `<topic>.dlq` goes back to `<topic>` once."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from cpc_shared.contracts import Topics
from cpc_shared.dead_letters import REPLAYER_GROUP


async def replay(bootstrap: str, topic: str) -> int:
    """Republish what is in the dead-letter topic that this replayer has not replayed yet (its offsets say)."""
    consumer = AIOKafkaConsumer(Topics.dead_letter(topic), bootstrap_servers=bootstrap, group_id=REPLAYER_GROUP,
                                enable_auto_commit=False, auto_offset_reset="earliest")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await consumer.start()
    await producer.start()
    count = 0
    try:
        while batch := await consumer.getmany(timeout_ms=2000):
            for records in batch.values():
                for record in records:
                    headers = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlq_")]
                    await producer.send_and_wait(topic, record.value, key=record.key, headers=headers)
                    count += 1
            await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()
    return count
