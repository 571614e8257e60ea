"""The rooms process: books the room for a conference in the office nearest the family."""

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

from cpc_rooms.adapters.store import BOOKINGS, prepare
from cpc_rooms.api import build_api
from cpc_rooms.booking import Bookings


def build() -> Service:
    settings = StaffApiSettings()
    profile = settings.profile()
    service = Service(
        "rooms", settings, outbox_collections=[BOOKINGS], prepare_store=prepare,
        description="District offices and rooms: bookings that never overlap, in the office nearest the family.",
    )
    bookings = Bookings(service.db, profile, service.clock, service.relay)

    async def on_room_requested(request: RoomRequested, envelope: Envelope) -> None:
        await bookings.request(request)

    async def on_conference_scheduled(scheduled: ConferenceArrangements, envelope: Envelope) -> None:
        await bookings.confirm(scheduled.conference_id, scheduled.booking_id)

    async def on_conference_cancelled(cancelled: ConferenceCancelled, envelope: Envelope) -> None:
        await bookings.release({"conference_id": cancelled.conference_id}, "conference_cancelled")

    service.consume(Topics.CONFERENCES, {
        RoomRequested.type: Route(RoomRequested, on_room_requested),
        ConferenceScheduled.type: Route(ConferenceScheduled, on_conference_scheduled),
        ConferenceRescheduled.type: Route(ConferenceRescheduled, on_conference_scheduled),
        ConferenceCancelled.type: Route(ConferenceCancelled, on_conference_cancelled),
    })
    service.every(30, bookings.expire_holds)
    service.mount_api(build_api(service.db, profile, settings.staff_token_secret.get_secret_value()))
    service.publishes(RoomBooked, RoomUnavailable, RoomReleased)
    return service
