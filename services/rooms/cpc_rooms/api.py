"""The room calendar for the conference team: each office's rooms and bookings, and how much they are used.

(No `from __future__ import annotations` here: FastAPI reads the dependencies from the annotations.)"""

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from cpc_shared.http import Identity, authenticator
from cpc_shared.profile import Office, Profile
from cpc_shared.repository import DocumentStore
from fastapi import Depends, FastAPI, HTTPException, Query

from cpc_rooms.adapters.store import BOOKINGS


def build_api(store: DocumentStore, profile: Profile, token_secret: str) -> FastAPI:
    api = FastAPI(title="Child protection conferences: room calendar", version="1",
                  openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None)
    staff = authenticator(token_secret, {"chair", "coordinator", "manager"})
    zone = ZoneInfo(profile.timezone)
    calendar = profile.calendar()
    offices = {office.id: office for office in profile.offices}

    def office_or_404(office_id: str) -> Office:
        if office_id not in offices:
            raise HTTPException(404, f"no office {office_id}; offices are {', '.join(offices)}")
        return offices[office_id]

    async def bookings_between(start: date, days: int, office_id: str | None = None) -> list[dict[str, Any]]:
        first = datetime.combine(start, time(0), tzinfo=zone)
        query: dict[str, Any] = {"status": {"$in": ["held", "booked"]},
                                 "starts_at": {"$gte": first, "$lt": first + timedelta(days=days)}}
        if office_id:
            query["office_id"] = office_id
        return await store.find_many(BOOKINGS, query)

    @api.get("/api/offices", summary="District offices and their rooms")
    async def list_offices(_: Annotated[Identity, Depends(staff)]) -> list[dict[str, Any]]:
        return [office.model_dump(mode="json", exclude={"closure_days"}) for office in profile.offices]

    @api.get("/api/offices/{office_id}/calendar", summary="An office's rooms and bookings for a day or a week")
    async def office_calendar(
        office_id: str, _: Annotated[Identity, Depends(staff)],
        start: Annotated[date, Query(alias="date", description="first day, YYYY-MM-DD")],
        days: Annotated[int, Query(ge=1, le=7)] = 1,
    ) -> dict[str, Any]:
        office = office_or_404(office_id)
        booked = await bookings_between(start, days, office_id)
        rooms = []
        for room in office.rooms:
            rooms.append({
                "room_id": room.id, "name": room.name, "capacity": room.capacity, "hybrid": room.hybrid,
                "step_free": room.step_free, "hearing_loop": room.hearing_loop,
                "bookings": sorted(({"booking_id": b["_id"], "conference_id": b["conference_id"], "status": b["status"],
                                     "starts_at": b["starts_at"].astimezone(zone), "ends_at": b["ends_at"].astimezone(zone)}
                                    for b in booked if b["room_id"] == room.id), key=lambda b: b["starts_at"]),
            })
        return {"office_id": office.id, "name": office.name, "address": office.address, "from": start,
                "days": days, "rooms": rooms}

    @api.get("/api/utilisation", summary="Share of each room's open hours booked, on working days of a period")
    async def utilisation(
        _: Annotated[Identity, Depends(staff)],
        from_date: Annotated[date, Query(alias="from")], to_date: Annotated[date, Query(alias="to")],
    ) -> dict[str, Any]:
        if to_date < from_date or (to_date - from_date).days > 366:
            raise HTTPException(422, "'to' must be on or after 'from', at most a year later")
        days = (to_date - from_date).days + 1
        booked = await bookings_between(from_date, days)
        result = []
        for office in profile.offices:
            open_days = [from_date + timedelta(days=n) for n in range(days)]
            open_days = [d for d in open_days if calendar.is_working_day(d) and d not in office.closure_days]
            hours_open = (datetime.combine(date.min, office.opening_hours.end)
                          - datetime.combine(date.min, office.opening_hours.start)).seconds / 3600
            for room in office.rooms:
                available = hours_open * sum(1 for d in open_days if room.in_use_on(d))
                used = sum((b["ends_at"] - b["starts_at"]).seconds / 3600 for b in booked if b["room_id"] == room.id)
                result.append({"office_id": office.id, "room_id": room.id, "hours_available": round(available, 1),
                               "hours_booked": round(used, 1),
                               "utilisation": round(used / available, 3) if available else None})
        return {"from": from_date, "to": to_date, "rooms": result}

    return api
