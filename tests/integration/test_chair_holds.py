"""Chairs' sessions on the real store: a hold that ran out before the room came back is booked again if the
session is still free, and never taken from a conference that claimed it meanwhile."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

from cpc_scheduling.adapters.store import HOLD_FOR, ChairSessions, prepare
from cpc_scheduling.domain.planning import Candidate
from cpc_shared.repository import DocumentStore
from cpc_shared.settings import ServiceSettings
from cpc_shared.store import connect

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
SLOT = Candidate(starts_at=datetime(2027, 3, 10, 9, 30, tzinfo=UTC), ends_at=datetime(2027, 3, 10, 11, 30, tzinfo=UTC),
                 chair_id="CHAIR-GL-01", session="2027-03-10|09:30", attendance_mode="in_person")


async def sessions_on_fresh_store(stack):
    settings = ServiceSettings(mongodb_url=stack.mongodb, database_prefix=f"cpc_chairs_{uuid.uuid4().hex[:8]}")
    client, db = connect(settings, "scheduling")
    await prepare(db)
    return client, db, ChairSessions(DocumentStore(db, "ferretdb1"))


async def test_an_expired_hold_is_booked_again_only_while_the_session_is_free(stack):
    client, db, chairs = await sessions_on_fresh_store(stack)
    try:
        assert await chairs.hold("CPC-A", [SLOT], NOW) == [SLOT]
        assert await chairs.expire_holds(NOW + HOLD_FOR + timedelta(minutes=1)) == 1
        assert not await chairs.book("CPC-A", SLOT.chair_id, SLOT.session)  # the hold is gone
        assert await chairs.hold("CPC-A", [SLOT], NOW, booked=True) == [SLOT]  # free: taken again, booked
        session = await db["chair_sessions"].find_one({"_id": SLOT.key})
        assert session["conference_id"] == "CPC-A" and session["state"] == "booked"

        await chairs.release("CPC-A", [SLOT.key])
        assert await chairs.hold("CPC-B", [SLOT], NOW) == [SLOT]  # another conference claims it meanwhile
        assert not await chairs.book("CPC-A", SLOT.chair_id, SLOT.session)
        assert await chairs.hold("CPC-A", [SLOT], NOW, booked=True) == []  # never taken from CPC-B
        session = await db["chair_sessions"].find_one({"_id": SLOT.key})
        assert session["conference_id"] == "CPC-B"
    finally:
        await client.close()


def session_at(day: int, at: str, chair: str = "CHAIR-GL-01") -> Candidate:
    hours, minutes = (int(part) for part in at.split(":"))
    starts = datetime(2027, 3, day, hours, minutes, tzinfo=UTC)
    return Candidate(starts, starts + timedelta(hours=2), chair, f"2027-03-{day:02d}|{at}", "in_person")


async def test_a_booking_lets_go_of_its_other_sessions_by_id_and_never_of_another_conferences(stack):
    client, db, chairs = await sessions_on_fresh_store(stack)
    first, second, third, theirs = session_at(10, "09:30"), session_at(10, "13:30"), session_at(11, "09:30"), \
        session_at(12, "09:30")
    keys = [c.key for c in (first, second, third, theirs)]
    try:
        assert await chairs.hold("CPC-A", [first, second, third], NOW) == [first, second, third]
        assert await chairs.hold("CPC-B", [theirs], NOW, booked=True) == [theirs]
        # CPC-A names a session that is CPC-B's (a stale list): it stays CPC-B's.
        assert await chairs.book("CPC-A", second.chair_id, second.session, "ROOM-1", others=keys)
        held = {doc["_id"]: doc async for doc in db["chair_sessions"].find({})}
        assert set(held) == {keys[1], keys[3]}
        assert held[keys[1]]["state"] == "booked" and held[keys[1]]["room_id"] == "ROOM-1"
        assert held[keys[3]]["conference_id"] == "CPC-B"

        await chairs.release_holds("CPC-A", keys)  # booked, not held: kept
        await chairs.release_holds("CPC-B", keys)
        assert {doc["_id"] async for doc in db["chair_sessions"].find({})} == {keys[1], keys[3]}
        assert await chairs.forget_before(date(2027, 3, 11)) == 1  # the 10th has gone by
        assert {doc["_id"] async for doc in db["chair_sessions"].find({})} == {keys[3]}
    finally:
        await client.close()


async def test_the_diary_kept_in_the_process_learns_its_own_writes_at_once_and_another_replicas_when_it_meets_them(
        stack):
    client, db, chairs = await sessions_on_fresh_store(stack)
    other_replica = ChairSessions(DocumentStore(db, "ferretdb1"))
    first, second = session_at(10, "09:30"), session_at(10, "13:30")
    day = first.day
    try:
        assert (await chairs.diary(day, day)).taken == set()
        assert await chairs.hold("CPC-A", [first], NOW) == [first]
        assert (await chairs.diary(day, day)).taken == {(first.chair_id, day, first.starts_at.time())}
        assert await other_replica.hold("CPC-B", [second], NOW, booked=True) == [second]
        # Not read again yet: the other replica's session is not in this diary, but holding it finds it taken.
        assert (second.chair_id, day, second.starts_at.time()) not in (await chairs.diary(day, day)).taken
        assert await chairs.hold("CPC-A", [second], NOW) == []
        assert (second.chair_id, day, second.starts_at.time()) in (await chairs.diary(day, day)).taken
        await chairs.release("CPC-A", [first.key])
        assert (await chairs.diary(day, day)).taken == {(second.chair_id, day, second.starts_at.time())}

        fresh = ChairSessions(DocumentStore(db, "ferretdb1"), refresh_seconds=0)  # reads the store every time
        assert await other_replica.book("CPC-B", second.chair_id, second.session, "ROOM-1")
        assert (await fresh.diary(day, day)).rooms == {("ROOM-1", day, second.starts_at.time())}
        # Two consumers plan side by side: reads of the store overlap and each diary is whole.
        diaries = await asyncio.gather(*(fresh.diary(day, day) for _ in range(4)))
        assert all(d.rooms == {("ROOM-1", day, second.starts_at.time())} for d in diaries)
    finally:
        await client.close()


async def test_many_candidates_are_held_in_one_insert_and_let_go_in_one_delete_those_of_others_kept(stack):
    """A plan's candidates are held in one call, whoever already holds some of them (one read says who); its
    other holds go in one call too, by id, and never another conference's."""
    from pymongo import AsyncMongoClient, monitoring

    class Calls(monitoring.CommandListener):
        def __init__(self) -> None:
            self.names: list[str] = []

        def started(self, event: monitoring.CommandStartedEvent) -> None:
            if event.command_name in ("insert", "find", "delete", "update"):
                self.names.append(event.command_name)

        def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
            pass

        def failed(self, event: monitoring.CommandFailedEvent) -> None:
            pass

    calls = Calls()
    client = AsyncMongoClient(stack.mongodb, event_listeners=[calls])
    db = client[f"cpc_chairs_{uuid.uuid4().hex[:8]}_scheduling"]
    await prepare(db)
    chairs = ChairSessions(DocumentStore(db, "ferretdb1"))
    candidates = [session_at(15, at) for at in ("09:30", "13:30")] + [session_at(16, at) for at in ("09:30", "13:30")]
    try:
        assert await chairs.hold("CPC-B", [candidates[1]], NOW) == [candidates[1]]  # another conference's already
        calls.names.clear()
        assert await chairs.hold("CPC-A", candidates, NOW) == [candidates[0], *candidates[2:]]
        assert calls.names == ["insert", "find"]
        calls.names.clear()
        await chairs.release_holds("CPC-A", [c.key for c in candidates])
        assert calls.names == ["delete"]
        left = {doc["_id"]: doc["conference_id"] async for doc in db["chair_sessions"].find({})}
        assert left == {candidates[1].key: "CPC-B"}
        assert await chairs.hold("CPC-C", [candidates[0]], NOW) == [candidates[0]]  # let go: free again
    finally:
        await client.close()
