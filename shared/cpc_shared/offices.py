"""Where the council's offices are, and which rooms suit a conference: the rooms service books by it, and the
scheduling service's planner weighs the same choices."""

from __future__ import annotations

import math

from cpc_shared.contracts.outbound import FamilyArea, RoomRequested
from cpc_shared.profile import Office, Profile, Room

EARTH_RADIUS_KM = 6371.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def offices_by_nearness(area: FamilyArea, profile: Profile) -> list[Office]:
    """Nearest first: by distance from the family's location; else the office serving the postcode
    district; else the council's default office. Offices beyond the profile's limit are left out."""
    if area.lat is not None and area.lon is not None:
        lat, lon = area.lat, area.lon
        ranked = sorted(profile.offices, key=lambda o: distance_km(lat, lon, o.location.lat, o.location.lon))
        near = [o for o in ranked
                if distance_km(lat, lon, o.location.lat, o.location.lon) <= profile.max_office_distance_km]
        return near or ranked[:1]
    home = next((o for o in profile.offices if area.postcode_district in o.postcode_districts), None) \
        if area.postcode_district else None
    home = home or next(o for o in profile.offices if o.id == profile.default_office)
    others = sorted(
        (o for o in profile.offices if o.id != home.id),
        key=lambda o: distance_km(home.location.lat, home.location.lon, o.location.lat, o.location.lon),
    )
    return [home, *[o for o in others if distance_km(home.location.lat, home.location.lon, o.location.lat,
                                                      o.location.lon) <= profile.max_office_distance_km]]


def suits(room: Room, request: RoomRequested) -> bool:
    return (
        room.capacity >= request.in_person_attendees
        and (room.hybrid or request.attendance_mode != "hybrid")
        and (room.step_free or not request.step_free_access)
        and (room.hearing_loop or not request.hearing_loop)
    )


def suitable_rooms(office: Office, request: RoomRequested) -> list[Room]:
    """Suitable rooms, the smallest that fits first (large rooms stay free for large conferences)."""
    return sorted((room for room in office.rooms if suits(room, request)), key=lambda room: room.capacity)


