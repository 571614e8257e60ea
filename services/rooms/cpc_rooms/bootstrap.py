"""The composition root: the rooms service's adapters, wired once."""

from __future__ import annotations

from cpc_shared.repository import Repository
from cpc_shared.service import Service
from cpc_shared.settings import StaffApiSettings

from cpc_rooms.adapters.store import BOOKINGS, RoomSlots, prepare
from cpc_rooms.domain.booking import Booking
from cpc_rooms.handlers import Rooms


def bootstrap(settings: StaffApiSettings) -> tuple[Service, Rooms]:
    service = Service(
        "rooms", settings, outbox_collections=[BOOKINGS], prepare_store=prepare,
        description="District offices and rooms: bookings that never overlap, in the office nearest the family.",
    )
    rooms = Rooms(bookings=Repository(service.store, Booking, service.relay), diary=RoomSlots(service.db),
                  profile=settings.profile(), clock=service.clock)
    return service, rooms
