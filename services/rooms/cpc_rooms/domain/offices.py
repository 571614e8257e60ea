"""The office nearest the family, and the rooms in it that suit the conference (the ranking and what suits are
the council's geography, in cpc_shared.offices)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from cpc_shared.contracts.outbound import RoomRequested, Slot
from cpc_shared.offices import suitable_rooms
from cpc_shared.profile import Office, Room


def usable_rooms(office: Office, request: RoomRequested, slot: Slot, zone: ZoneInfo) -> list[Room]:
    """Suitable rooms of an office that is open for the whole slot, and in use that day."""
    if not office.open_for(slot.starts_at, slot.ends_at, zone):
        return []
    day = slot.starts_at.astimezone(zone).date()
    return [room for room in suitable_rooms(office, request) if room.in_use_on(day)]


def why_unavailable(offices: list[Office], request: RoomRequested) -> str:
    """Why no room was booked, in the conference team's words (no personal data)."""
    needs = [f"{request.in_person_attendees} people"]
    if request.attendance_mode == "hybrid":
        needs.append("hybrid equipment")
    if request.step_free_access:
        needs.append("step-free access")
    if request.hearing_loop:
        needs.append("a hearing loop")
    if not offices:
        return f"no office is nearer the family than {request.nearer_than_office_id}, where the conference is"
    names = ", ".join(office.id for office in offices)
    move = f" (a move: only offices nearer the family than {request.nearer_than_office_id})" \
        if request.nearer_than_office_id else ""
    if not any(suitable_rooms(office, request) for office in offices):
        return f"no room in {names} suits the conference ({', '.join(needs)}){move}"
    return f"every suitable room in {names} is taken or closed at the {len(request.candidates)} times offered{move}"
