"""The rooms process: books the room for a conference in the office nearest the family.

Entry points only: each event goes to its handler in handlers.py."""

from __future__ import annotations

from cpc_shared.consumer import Route
from cpc_shared.contracts import Topics
from cpc_shared.contracts.outbound import (
    ConferenceArrangements,
    ConferenceCancelled,
    ConferenceRescheduled,
    ConferenceScheduled,
    RoomBooked,
    RoomReleased,
    RoomRequested,
    RoomUnavailable,
)
from cpc_shared.envelope import Envelope
from cpc_shared.service import Service
from cpc_shared.settings import StaffApiSettings

from cpc_rooms import handlers
from cpc_rooms.api import build_api
from cpc_rooms.bootstrap import bootstrap


def build() -> Service:
    settings = StaffApiSettings()
    service, rooms = bootstrap(settings)

    async def on_room_requested(request: RoomRequested, envelope: Envelope) -> None:
        await handlers.request_room(request, rooms)

    async def on_conference_scheduled(scheduled: ConferenceArrangements, envelope: Envelope) -> None:
        await handlers.confirm_booking(scheduled, rooms)

    async def on_conference_cancelled(cancelled: ConferenceCancelled, envelope: Envelope) -> None:
        await handlers.release_bookings(cancelled, rooms)

    async def expire_holds() -> None:
        await handlers.expire_holds(rooms)

    service.consume(Topics.CONFERENCES, {
        RoomRequested.type: Route(RoomRequested, on_room_requested),
        ConferenceScheduled.type: Route(ConferenceScheduled, on_conference_scheduled),
        ConferenceRescheduled.type: Route(ConferenceRescheduled, on_conference_scheduled),
        ConferenceCancelled.type: Route(ConferenceCancelled, on_conference_cancelled),
    })
    service.every(30, expire_holds)
    service.mount_api(build_api(service.store, rooms.profile, settings.staff_token_secret.get_secret_value()))
    service.publishes(RoomBooked, RoomUnavailable, RoomReleased)
    return service
