"""`./dev bench`'s baselines run against the real store and Kafka, and leave nothing behind."""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient
from cpc_stack.bench import kafka_baseline, store_baseline
from pymongo import AsyncMongoClient


async def test_the_baselines_measure_the_store_and_kafka_and_clean_up(stack):
    store = await store_baseline(stack.mongodb)
    kafka = await kafka_baseline(stack.kafka)
    assert set(store) == {"insert one (ops/s)", "update one by _id (ops/s)", "find one by _id (ops/s)",
                          "find by another field, whole collection (ms)"}
    assert set(kafka) == {"publish one, acknowledged (records/s)", "read back (records/s)"}
    assert all(figure > 0 for figure in [*store.values(), *kafka.values()])

    client = AsyncMongoClient(stack.mongodb)
    try:
        assert not [name for name in await client.list_database_names() if name.startswith("cpc_bench_")]
    finally:
        await client.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka)
    await admin.start()
    try:
        for _ in range(20):  # a deleted topic leaves the brokers' metadata within moments
            left = [name for name in await admin.list_topics() if name.startswith("cpc.bench.")]
            if not left:
                break
            await asyncio.sleep(0.5)
        assert not left
    finally:
        await admin.close()
