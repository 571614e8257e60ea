"""The shared reliability plumbing against the real broker and store: redelivery, dead letters, outbox."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cpc_shared.broker import make_broker
from cpc_shared.consumer import EventConsumer, NotYet, Rejected, Route, Unavailable
from cpc_shared.contracts import ConferenceOutcomeRecorded
from cpc_shared.contracts.outbound import ConferenceCancelled
from cpc_shared.envelope import encode
from cpc_shared.fakes import RecordingRelay
from cpc_shared.outbox import OutboxRelay, outbox_entry
from cpc_shared.repository import Aggregate, DocumentStore, Repository
from cpc_shared.settings import ServiceSettings
from cpc_shared.store import connect

OUTCOME = ConferenceOutcomeRecorded.type


async def new_topics(bootstrap: str, *names: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1) for name in names])
    finally:
        await admin.close()


async def send_outcomes(bootstrap: str, topic: str, conference_ids: list[str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for conference_id in conference_ids:
            data = {"conference_id": conference_id, "case_id": "CASE-1", "held_on": "2026-11-20",
                    "outcome": "plan_started", "quorate": True}
            headers, key, value = encode(id=str(uuid.uuid4()), type=OUTCOME, source="/test", time=datetime.now(UTC),
                                         key="CASE-1", data=data)
            await producer.send_and_wait(topic, value, key=key, headers=list(headers.items()))
    finally:
        await producer.stop()


async def committed(bootstrap: str, group: str, topic: str) -> int | None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.committed(TopicPartition(topic, 0))
    finally:
        await consumer.stop()


async def first_dead_letter(bootstrap: str, topic: str):
    dlq = AIOKafkaConsumer(f"{topic}.dlq", bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await dlq.start()
    try:
        return await asyncio.wait_for(dlq.getone(), 20)
    finally:
        await dlq.stop()


async def conferences_from_now(bootstrap: str) -> AIOKafkaConsumer:
    """A started consumer of cpc.conferences, at the end of each partition: it reads what is published from now."""
    watcher = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await watcher.start()
    partitions = [TopicPartition("cpc.conferences", p) for p in range(3)]
    watcher.assign(partitions)
    for partition, offset in (await watcher.end_offsets(partitions)).items():
        watcher.seek(partition, offset)
    return watcher


async def wait_for(condition, timeout: float = 30) -> bool:
    for _ in range(int(timeout / 0.1)):
        if condition():
            return True
        await asyncio.sleep(0.1)
    return condition()


async def test_a_record_failing_transiently_is_redelivered_not_skipped_when_a_later_one_succeeds(stack):
    topic, group = f"test.plumbing.{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"
    await new_topics(stack.kafka, topic, f"{topic}.dlq")
    handled: list[str] = []
    failures = {"A": 0}

    async def handler(event: ConferenceOutcomeRecorded, envelope) -> None:
        if event.conference_id == "A" and failures["A"] < 5:
            failures["A"] += 1
            raise Unavailable("the mail server is away")
        handled.append(event.conference_id)

    broker = make_broker(ServiceSettings(kafka_bootstrap_servers=stack.kafka), client_id="test")
    EventConsumer(broker, topic=topic, group_id=group, routes={OUTCOME: Route(ConferenceOutcomeRecorded, handler)},
                  attempts=2, backoff=0.05)
    await broker.start()
    try:
        await send_outcomes(stack.kafka, topic, ["A", "B"])
        assert await wait_for(lambda: handled == ["A", "B"]), handled
    finally:
        await broker.stop()
    assert failures["A"] == 5  # two attempts, seek back, two more, seek back, then success
    assert await committed(stack.kafka, group, topic) == 2


async def test_a_rejected_event_is_dead_lettered_with_its_reason_and_the_next_is_handled(stack):
    topic, group = f"test.plumbing.{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"
    await new_topics(stack.kafka, topic, f"{topic}.dlq")
    handled: list[str] = []

    async def handler(event: ConferenceOutcomeRecorded, envelope) -> None:
        if event.conference_id == "UNKNOWN":
            raise Rejected("no such conference")
        handled.append(event.conference_id)

    broker = make_broker(ServiceSettings(kafka_bootstrap_servers=stack.kafka), client_id="test")
    EventConsumer(broker, topic=topic, group_id=group, routes={OUTCOME: Route(ConferenceOutcomeRecorded, handler)})
    await broker.start()
    try:
        await send_outcomes(stack.kafka, topic, ["UNKNOWN", "KNOWN"])
        assert await wait_for(lambda: handled == ["KNOWN"])
    finally:
        await broker.stop()
    record = await first_dead_letter(stack.kafka, topic)
    headers = dict(record.headers)
    assert headers["dlq_reason"] == b"no such conference"
    assert headers["dlq_offset"] == b"0" and headers["dlq_topic"] == topic.encode()
    assert headers["ce_type"] == OUTCOME.encode()


async def test_an_event_waiting_for_one_that_never_comes_is_dead_lettered_and_the_partition_moves_on(stack):
    topic, group = f"test.plumbing.{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"
    await new_topics(stack.kafka, topic, f"{topic}.dlq")
    handled: list[str] = []
    tries = {"STRAY": 0}

    async def handler(event: ConferenceOutcomeRecorded, envelope) -> None:
        if event.conference_id == "STRAY":
            tries["STRAY"] += 1
            raise NotYet("the conference is not known here yet")
        handled.append(event.conference_id)

    broker = make_broker(ServiceSettings(kafka_bootstrap_servers=stack.kafka), client_id="test")
    EventConsumer(broker, topic=topic, group_id=group, routes={OUTCOME: Route(ConferenceOutcomeRecorded, handler)},
                  attempts=2, backoff=0.05, wait_limit=1.0)
    await broker.start()
    try:
        await send_outcomes(stack.kafka, topic, ["STRAY", "NEXT"])
        assert await wait_for(lambda: handled == ["NEXT"]), handled
    finally:
        await broker.stop()
    assert tries["STRAY"] >= 4  # redelivered while waiting, not dead-lettered at the first miss
    record = await first_dead_letter(stack.kafka, topic)
    reason = dict(record.headers)["dlq_reason"].decode()
    assert reason.startswith("gave up waiting after ") and reason.endswith(": the conference is not known here yet")
    assert await committed(stack.kafka, group, topic) == 2


async def test_the_outbox_relay_publishes_each_pending_event_once_and_empties_the_outbox(stack, database_prefix):
    settings = ServiceSettings(kafka_bootstrap_servers=stack.kafka, mongodb_url=stack.mongodb,
                               database_prefix=database_prefix)
    client, db = connect(settings, "plumbing")
    broker = make_broker(settings, client_id="test")
    relay = OutboxRelay(db, ["aggregates"], broker, source="/test", sweep=0.2)
    conference_id = f"CPC-{uuid.uuid4().hex[:8]}"
    events = [ConferenceCancelled(conference_id=conference_id, case_id="C", reason=f"r{n}") for n in range(3)]
    at = datetime.now(UTC)
    await db["aggregates"].insert_one({"_id": conference_id, "state": "cancelled",
                                       "outbox": [outbox_entry(e, at=at, cause=str(n)) for n, e in enumerate(events)]})
    watcher = await conferences_from_now(stack.kafka)
    await broker.connect()
    try:
        assert await relay.drain() == 3
        assert await relay.drain() == 0
        seen = []
        for _ in range(50):
            batch = await watcher.getmany(timeout_ms=200)
            seen += [r for records in batch.values() for r in records if r.key == conference_id.encode()]
            if len(seen) >= 3:
                break
    finally:
        await watcher.stop()
        await broker.stop()
    assert [dict(r.headers)["ce_type"] for r in seen] == [ConferenceCancelled.type.encode()] * 3
    assert len({dict(r.headers)["ce_id"] for r in seen}) == 3
    assert (await db["aggregates"].find_one({"_id": conference_id}))["outbox"] == []
    await client.close()


class Cancellable(Aggregate):
    collection = "aggregates"
    reasons: list[str] = []

    def cancel(self, reason: str) -> None:
        self.reasons = [*self.reasons, reason]
        self.record(ConferenceCancelled(conference_id=self.id, case_id="C", reason=reason), at=datetime.now(UTC),
                    cause=reason)


async def published_for(watcher: AIOKafkaConsumer, keys: list[str], count: int) -> dict[str, list[dict]]:
    """The events published for `keys`, by key, in order, once `count` of them have been read."""
    seen: dict[str, list[dict]] = {key: [] for key in keys}
    for _ in range(50):
        batch = await watcher.getmany(timeout_ms=200)
        for record in (r for records in batch.values() for r in records if r.key and r.key.decode() in seen):
            seen[record.key.decode()].append(json.loads(record.value))
        if sum(len(events) for events in seen.values()) >= count:
            break
    return seen


async def test_events_a_repository_hands_over_are_published_in_order_and_pulled_without_a_read(stack, database_prefix):
    """A save hands its events to the relay, which publishes them and pulls them from the stored outbox in one
    update: the entries held in memory must equal the stored ones (dates to the millisecond), or they would stay.
    A document read with older entries pending is named instead, and all its entries go out in order."""
    settings = ServiceSettings(kafka_bootstrap_servers=stack.kafka, mongodb_url=stack.mongodb,
                               database_prefix=database_prefix)
    client, db = connect(settings, "plumbing")
    broker = make_broker(settings, client_id="test")
    relay = OutboxRelay(db, ["aggregates"], broker, source="/test", sweep=3600)
    repository = Repository(DocumentStore(db, settings.store_semantics), Cancellable, relay)
    handed, named = f"CPC-{uuid.uuid4().hex[:8]}", f"CPC-{uuid.uuid4().hex[:8]}"
    watcher = await conferences_from_now(stack.kafka)
    await broker.connect()
    try:
        first = Cancellable(id=handed)
        first.cancel("one")
        first.cancel("two")
        assert await repository.add(first)
        assert relay._handed and not relay._written
        assert await relay.drain(sweep=False) == 2
        again = await repository.get(handed)
        assert again is not None and not again._unpublished
        again.cancel("three")
        await repository.save(again)
        beside = Cancellable(id=f"{handed}-beside")  # two documents pulled in one update
        beside.cancel("four")
        assert await repository.add(beside)
        assert await relay.drain(sweep=False) == 2
        assert (await db["aggregates"].find_one({"_id": handed}))["outbox"] == []
        assert (await db["aggregates"].find_one({"_id": beside.id}))["outbox"] == []

        left = Cancellable(id=named)
        left.cancel("earlier")
        await db["aggregates"].insert_one({"_id": named, **left.state(), "revision": 1, "outbox": left.recorded})
        later = await repository.get(named)
        assert later is not None and later._unpublished
        later.cancel("later")
        await repository.save(later)
        assert relay._written and not relay._handed
        assert await relay.drain(sweep=False) == 2
        assert (await db["aggregates"].find_one({"_id": named}))["outbox"] == []
        seen = await published_for(watcher, [handed, named], 5)
        assert [event["reason"] for event in seen[handed]] == ["one", "two", "three"]
        assert [event["reason"] for event in seen[named]] == ["earlier", "later"]
    finally:
        await watcher.stop()
        await broker.stop()
        await client.close()


async def test_a_document_read_before_its_published_entries_are_pulled_hands_its_next_ones_over(
        stack, database_prefix):
    """Read while this process's published entries still wait to be pulled, an aggregate's next save hands its
    events over (no read of the document to publish them); they go out after the earlier ones, and all are pulled."""
    settings = ServiceSettings(kafka_bootstrap_servers=stack.kafka, mongodb_url=stack.mongodb,
                               database_prefix=database_prefix)
    client, db = connect(settings, "plumbing")
    broker = make_broker(settings, client_id="test")
    relay = OutboxRelay(db, ["aggregates"], broker, source="/test", sweep=3600)
    repository = Repository(DocumentStore(db, settings.store_semantics), Cancellable, relay)
    key = f"CPC-{uuid.uuid4().hex[:8]}"
    watcher = await conferences_from_now(stack.kafka)
    await broker.connect()
    try:
        first = Cancellable(id=key)
        first.cancel("one")
        assert await repository.add(first)
        assert await relay.drain(sweep=False, defer_pulls=True) == 1
        assert len((await db["aggregates"].find_one({"_id": key}))["outbox"]) == 1  # published, not yet pulled
        again = await repository.get(key)
        assert again is not None and not again._unpublished
        again.cancel("two")
        await repository.save(again)
        assert relay._handed and not relay._written
        assert await relay.drain(sweep=False) == 1
        assert (await db["aggregates"].find_one({"_id": key}))["outbox"] == []
        seen = await published_for(watcher, [key], 2)
        assert [event["reason"] for event in seen[key]] == ["one", "two"]
    finally:
        await watcher.stop()
        await broker.stop()
        await client.close()


class StoreCalls:
    """The commands a client sends, as (name, collection) (a pymongo command listener)."""

    def __init__(self) -> None:
        from pymongo import monitoring

        class Listener(monitoring.CommandListener):
            def started(inner, event: monitoring.CommandStartedEvent) -> None:
                self.commands.append((event.command_name, str(event.command.get(event.command_name))))

            def succeeded(inner, event: monitoring.CommandSucceededEvent) -> None:
                pass

            def failed(inner, event: monitoring.CommandFailedEvent) -> None:
                pass

        self.commands: list[tuple[str, str]] = []
        self.listener = Listener()

    def count(self, name: str, collection: str | None = None) -> int:
        return sum(1 for n, c in self.commands if n == name and collection in (None, c))


async def test_the_relay_is_settled_once_what_was_handed_over_is_published_and_pulls_a_bursts_entries_together(
        stack, database_prefix, monkeypatch):
    """A simulated clock's timers say they have looked only after `settled`: by then their events are out. The
    entries of many saves in a burst are pulled from their documents in one update once the writers pause."""
    from cpc_shared import outbox
    from pymongo import AsyncMongoClient

    # A pause and a longest wait that a loaded machine's saves, one after another, stay well inside (50 ms and 1 s
    # in the services): the burst is one burst however slow the store is today.
    monkeypatch.setattr(outbox, "PULL_AFTER", 0.5)
    monkeypatch.setattr(outbox, "PULL_WITHIN", 10.0)

    calls = StoreCalls()
    client = AsyncMongoClient(stack.mongodb, event_listeners=[calls.listener])
    db = client[f"{database_prefix}_plumbing"]
    settings = ServiceSettings(kafka_bootstrap_servers=stack.kafka)
    broker = make_broker(settings, client_id="test")
    relay = OutboxRelay(db, ["aggregates"], broker, source="/test", sweep=3600)
    repository = Repository(DocumentStore(db, "ferretdb1"), Cancellable, relay)
    await broker.connect()
    await relay.start()
    try:
        await relay.settled()  # nothing handed over: at once
        first = Cancellable(id=f"CPC-{uuid.uuid4().hex[:8]}")
        first.cancel("settled")
        entry_id = first.recorded[0]["id"]
        assert await repository.add(first)
        await asyncio.wait_for(relay.settled(), 10)
        assert entry_id in relay._published

        async def pulled(ids: list[str]) -> bool:
            found = await db["aggregates"].find({"_id": {"$in": ids}, "outbox.0": {"$exists": True}}).to_list()
            return not found

        async def wait_until_pulled(ids: list[str]) -> None:
            for _ in range(150):
                if await pulled(ids):
                    return
                await asyncio.sleep(0.1)
            raise AssertionError("the published entries were never pulled")

        await wait_until_pulled([first.id])  # its own pull, before the burst's is counted
        ids = []
        calls.commands.clear()
        for n in range(5):  # a burst
            aggregate = Cancellable(id=f"CPC-{uuid.uuid4().hex[:8]}")
            aggregate.cancel(f"burst {n}")
            assert await repository.add(aggregate)
            ids.append(aggregate.id)
        await wait_until_pulled(ids)
        assert calls.count("update") == 1
    finally:
        await relay.stop()
        await broker.stop()
        await client.close()


async def test_an_event_delivered_twice_with_the_same_id_is_handled_once(stack, database_prefix):
    topic, group = f"test.plumbing.{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"
    await new_topics(stack.kafka, topic, f"{topic}.dlq")
    settings = ServiceSettings(kafka_bootstrap_servers=stack.kafka, mongodb_url=stack.mongodb,
                               database_prefix=database_prefix)
    client, db = connect(settings, "plumbing")
    handled: list[str] = []

    async def handler(event: ConferenceOutcomeRecorded, envelope) -> None:
        handled.append(envelope.id)

    broker = make_broker(settings, client_id="test")
    EventConsumer(broker, topic=topic, group_id=group, routes={OUTCOME: Route(ConferenceOutcomeRecorded, handler)},
                  inbox=db["inbox"])
    data = {"conference_id": "A", "case_id": "CASE-1", "held_on": "2026-11-20", "outcome": "no_plan", "quorate": True}
    headers, key, value = encode(id="same-id", type=OUTCOME, source="/test", time=datetime.now(UTC), key="CASE-1", data=data)
    await broker.start()
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka, acks="all")
    await producer.start()
    try:
        for _ in range(2):
            await producer.send_and_wait(topic, value, key=key, headers=list(headers.items()))
        await send_outcomes(stack.kafka, topic, ["LAST"])
        assert await wait_for(lambda: len(handled) == 2)
    finally:
        await producer.stop()
        await broker.stop()
        await client.close()
    assert handled[0] == "same-id" and handled[1] != "same-id"


async def test_a_new_process_reads_its_groups_handled_ids_once_and_skips_a_copy_of_one_handled_before(
        stack, database_prefix):
    """The inbox is read once per process (and rebalance), not once per record: a copy of an event the group
    handled before the process started is still skipped, and the records after it are handled."""
    from pymongo import AsyncMongoClient

    topic, group = f"test.plumbing.{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"
    await new_topics(stack.kafka, topic, f"{topic}.dlq")
    data = {"conference_id": "A", "case_id": "CASE-1", "held_on": "2026-11-20", "outcome": "no_plan", "quorate": True}
    headers, key, value = encode(id="handled-once", type=OUTCOME, source="/test", time=datetime.now(UTC), key="CASE-1",
                                 data=data)
    inbox_name = f"{database_prefix}_plumbing"
    handled: list[list[str]] = [[], []]
    for process in (0, 1):
        calls = StoreCalls()
        client = AsyncMongoClient(stack.mongodb, event_listeners=[calls.listener])

        async def handler(event: ConferenceOutcomeRecorded, envelope, seen: list[str] = handled[process]) -> None:
            seen.append(event.conference_id)

        broker = make_broker(ServiceSettings(kafka_bootstrap_servers=stack.kafka), client_id=f"test-{process}")
        EventConsumer(broker, topic=topic, group_id=group, routes={OUTCOME: Route(ConferenceOutcomeRecorded, handler)},
                      inbox=client[inbox_name]["inbox"])
        await broker.start()
        producer = AIOKafkaProducer(bootstrap_servers=stack.kafka, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=key, headers=list(headers.items()))
            await send_outcomes(stack.kafka, topic, [f"AFTER-{process}-{n}" for n in range(3)])
            expected = 3 + (process == 0)
            assert await wait_for(lambda seen=handled[process], n=expected: len(seen) >= n)
        finally:
            await producer.stop()
            await broker.stop()
            await client.close()
        assert calls.count("find", "inbox") == 1
    assert handled == [["A", "AFTER-0-0", "AFTER-0-1", "AFTER-0-2"], ["AFTER-1-0", "AFTER-1-1", "AFTER-1-2"]]


async def test_a_record_whose_headers_are_not_utf8_is_dead_lettered_not_lost(stack):
    """FastStream's own parser decoded header values strictly: one that was not UTF-8 failed before the consumer
    ran, and the record was neither handled nor dead-lettered."""
    topic, group = f"test.plumbing.{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"
    await new_topics(stack.kafka, topic, f"{topic}.dlq")
    handled: list[str] = []

    async def handler(event: ConferenceOutcomeRecorded, envelope) -> None:
        handled.append(event.conference_id)

    broker = make_broker(ServiceSettings(kafka_bootstrap_servers=stack.kafka), client_id="test")
    EventConsumer(broker, topic=topic, group_id=group, routes={OUTCOME: Route(ConferenceOutcomeRecorded, handler)})
    await broker.start()
    try:
        producer = AIOKafkaProducer(bootstrap_servers=stack.kafka, acks="all")
        await producer.start()
        try:
            headers = [("ce_specversion", b"1.0"), ("ce_id", b"E-1"), ("ce_source", b"/test"), ("ce_type", b"\xff\xfe")]
            await producer.send_and_wait(topic, b"{}", key=b"CASE-1", headers=headers)
        finally:
            await producer.stop()
        await send_outcomes(stack.kafka, topic, ["NEXT"])
        assert await wait_for(lambda: handled == ["NEXT"])
    finally:
        await broker.stop()
    record = await first_dead_letter(stack.kafka, topic)
    assert record.key == b"CASE-1" and dict(record.headers)["dlq_reason"].startswith(b"invalid CloudEvents attributes")


async def test_a_groups_progress_is_past_once_it_has_committed_what_the_topic_held_when_first_asked(stack):
    from cpc_shared.progress import GroupProgress

    topic, group = f"test.progress.{uuid.uuid4().hex[:8]}", f"test-{uuid.uuid4().hex[:8]}"
    await new_topics(stack.kafka, topic)
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka, acks="all")
    await producer.start()
    member = AIOKafkaConsumer(bootstrap_servers=stack.kafka, group_id=group, enable_auto_commit=False)
    await member.start()
    progress = GroupProgress({"bootstrap_servers": stack.kafka}, topic, group)
    partition = TopicPartition(topic, 0)
    try:
        for _ in range(2):
            await producer.send_and_wait(topic, b"x", partition=0)
        assert not await progress.read_past("outcome A")  # the group has read nothing
        member.assign([partition])
        await member.commit({partition: 1})
        assert not await progress.read_past("outcome A")
        await producer.send_and_wait(topic, b"x", partition=0)  # after A first asked: A does not wait for it
        await member.commit({partition: 2})
        assert await progress.read_past("outcome A")
        assert not await progress.read_past("outcome B")  # B came after the third record
    finally:
        await progress.close()
        await member.stop()
        await producer.stop()


async def test_dead_letters_waiting_are_counted_from_the_twin_topics_partitions(stack):
    """The count the dashboard shows: a consumer that subscribes to nothing knew no topic's partitions, and every
    count was 0."""
    from cpc_shared.dead_letters import waiting

    topic = f"test.waiting.{uuid.uuid4().hex[:8]}"
    await new_topics(stack.kafka, f"{topic}.dlq")
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka, acks="all")
    await producer.start()
    try:
        for _ in range(2):
            await producer.send_and_wait(f"{topic}.dlq", b"a dead letter")
    finally:
        await producer.stop()
    assert await waiting({"bootstrap_servers": stack.kafka}, (topic, f"{topic}.none")) == {topic: 2, f"{topic}.none": 0}


async def test_many_aggregates_are_read_and_added_in_one_call_each_and_those_there_already_are_named(stack, database_prefix):
    """`add_many` stores every new aggregate with its events and names those whose id is taken, on the real store
    (whose answer to a partly refused insert of many is its own); `get_many` reads by id those that exist."""
    settings = ServiceSettings(kafka_bootstrap_servers=stack.kafka, mongodb_url=stack.mongodb,
                               database_prefix=database_prefix)
    client, db = connect(settings, "plumbing")
    relay = RecordingRelay()
    repository = Repository(DocumentStore(db, settings.store_semantics), Cancellable, relay)
    try:
        prefix = f"CPC-{uuid.uuid4().hex[:8]}"
        taken = Cancellable(id=f"{prefix}-b")
        taken.cancel("first")
        assert await repository.add(taken)
        batch = [Cancellable(id=f"{prefix}-{name}") for name in "abc"]
        for aggregate in batch:
            aggregate.cancel(f"from the batch {aggregate.id}")
        refused = await repository.add_many(batch)
        assert [aggregate.id for aggregate in refused] == [f"{prefix}-b"]
        found = await repository.get_many([f"{prefix}-{name}" for name in "abcd"])
        assert sorted(found) == [f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"]
        assert found[f"{prefix}-b"].reasons == ["first"]  # left as it was
        assert found[f"{prefix}-c"].reasons == [f"from the batch {prefix}-c"] and found[f"{prefix}-c"].revision == 1
        assert found[f"{prefix}-a"]._unpublished  # its event waits in its outbox for the relay
        assert (await db["aggregates"].find_one({"_id": f"{prefix}-a"}))["outbox"][0]["data"]["reason"] \
            == f"from the batch {prefix}-a"
        assert relay.notified == [("aggregates", f"{prefix}-{name}") for name in "bac"]  # b's by its own add
        assert await repository.add_many([]) == [] and await repository.get_many([]) == {}
    finally:
        await client.close()
