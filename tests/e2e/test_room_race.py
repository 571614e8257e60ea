"""Two rooms-service processes racing for a few rooms: never a double booking, every request answered."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiokafka import AIOKafkaProducer
from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.contracts import Topics
from cpc_shared.contracts.outbound import FamilyArea, RoomRequested, Slot
from cpc_shared.envelope import encode
from cpc_stack import services
from cpc_stack.paths import LOGS

pytestmark = pytest.mark.e2e
REQUESTS = 240
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def second_rooms_replica(running_services, service_env):
    services.start(running_services, ["rooms-2"],
                   extra_env=service_env)
    yield
    services.stop(["rooms-2"])


async def test_a_burst_of_overlapping_requests_never_double_books_a_room(running_services, second_rooms_replica, watcher):
    # Far in the future so that no other test's bookings are there; Tewkesbury has a single room,
    # Cheltenham two: 240 requests for overlapping times in and around them.
    day = WorkingDayCalendar().on_or_after(datetime.now(LONDON).date() + timedelta(days=400))
    starts = [datetime(day.year, day.month, day.day, 9, 30, tzinfo=LONDON) + timedelta(minutes=45 * n) for n in range(6)]
    producer = AIOKafkaProducer(bootstrap_servers=running_services.kafka, acks="all", enable_idempotence=True)
    await producer.start()
    request_ids = []
    try:
        for n in range(REQUESTS):
            first = starts[n % len(starts)]
            request = RoomRequested(
                conference_id=f"CPC-RACE-{uuid.uuid4().hex[:10].upper()}", case_id=f"CASE-RACE-{n}",
                room_request_id=str(uuid.uuid4()), attendance_mode="in_person", in_person_attendees=6,
                family_area=FamilyArea(lat=51.99, lon=-2.16),
                candidates=[Slot(starts_at=first, ends_at=first + timedelta(minutes=90)),
                            Slot(starts_at=first + timedelta(minutes=30), ends_at=first + timedelta(minutes=120))],
            )
            request_ids.append(request.room_request_id)
            headers, key, value = encode(id=str(uuid.uuid4()), type=request.type, source="/test/race",
                                         time=datetime.now(LONDON), key=request.key, data=request.model_dump(mode="json"))
            await producer.send(Topics.CONFERENCES, value, key=key, headers=list(headers.items()))
        await producer.flush()
    finally:
        await producer.stop()

    def answered():
        return {s.data["room_request_id"] for s in watcher.seen
                if s.type in ("cpc.RoomBooked.v1", "cpc.RoomUnavailable.v1") and s.data.get("room_request_id") in wanted}

    wanted = set(request_ids)
    assert await watcher.until(lambda: answered() == wanted, timeout=240), f"{len(answered())} of {REQUESTS} answered"
    # An event the relay published twice (a crash between publishing and marking) has the same id: one event.
    events = {s.headers["ce_id"]: s for s in watcher.seen if s.data and s.data.get("room_request_id") in wanted
              and s.type in ("cpc.RoomBooked.v1", "cpc.RoomUnavailable.v1")}
    booked = [s.data for s in events.values() if s.type == "cpc.RoomBooked.v1"]
    assert len({b["room_request_id"] for b in booked}) == len(booked), "one answer per request"
    assert booked, "some rooms were booked"
    by_room: dict[str, list[tuple[datetime, datetime]]] = {}
    for b in booked:
        by_room.setdefault(b["room_id"], []).append((datetime.fromisoformat(b["starts_at"]),
                                                      datetime.fromisoformat(b["ends_at"])))
    for room, periods in by_room.items():
        periods.sort()
        for (_, end), (next_start, _) in zip(periods, periods[1:], strict=False):
            assert end <= next_start, f"{room} is double-booked"
    unavailable = [s.data for s in events.values() if s.type == "cpc.RoomUnavailable.v1"]
    assert len(booked) + len(unavailable) == REQUESTS
    assert all("taken or closed" in u["reason"] for u in unavailable)
    # Both replicas took part in the race.
    race_ids = {b["conference_id"] for b in booked} | {u["conference_id"] for u in unavailable}
    for replica in ("rooms", "rooms-2"):
        log = (LOGS / f"{replica}.log").read_text()
        assert sum(1 for line in log.splitlines() if "room_decided" in line and any(c in line for c in race_ids)) > 0
