"""Chairs' sessions on the real store: a hold that ran out before the room came back is booked again if the
session is still free, and never taken from a conference that claimed it meanwhile."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

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
        session = await db["chair_sessions"].find_one({"_id": f"{SLOT.chair_id}|{SLOT.session}"})
        assert session["conference_id"] == "CPC-A" and session["state"] == "booked"

        await chairs.release("CPC-A")
        assert await chairs.hold("CPC-B", [SLOT], NOW) == [SLOT]  # another conference claims it meanwhile
        assert not await chairs.book("CPC-A", SLOT.chair_id, SLOT.session)
        assert await chairs.hold("CPC-A", [SLOT], NOW, booked=True) == []  # never taken from CPC-B
        session = await db["chair_sessions"].find_one({"_id": f"{SLOT.chair_id}|{SLOT.session}"})
        assert session["conference_id"] == "CPC-B"
    finally:
        await client.close()
