"""The room calendar API on the running rooms process."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from cpc_shared.http import issue_token
from cpc_stack import infra, services

from tests.conftest import schedule

pytestmark = pytest.mark.e2e
API = services.api("rooms")


def staff() -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(infra.staff_token_secret(), subject='s', role='coordinator')}"}


async def test_the_team_sees_each_offices_rooms_bookings_and_utilisation(running_services, watcher):
    _, conference = await schedule(watcher, running_services)
    day = datetime.fromisoformat(conference["starts_at"]).astimezone(ZoneInfo("Europe/London")).date()
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{API}/offices")).status_code == 401
        offices = (await http.get(f"{API}/offices", headers=staff())).json()
        assert {o["id"] for o in offices} >= {"GL-GLOUCESTER", "GL-CHELTENHAM", "GL-COLEFORD"}
        calendar = (await http.get(f"{API}/offices/{conference['office_id']}/calendar",
                                   params={"date": day.isoformat(), "days": 1}, headers=staff())).json()
        room = next(r for r in calendar["rooms"] if r["room_id"] == conference["room_id"])
        assert conference["conference_id"] in [b["conference_id"] for b in room["bookings"]]
        assert (await http.get(f"{API}/offices/GL-NOWHERE/calendar", params={"date": day.isoformat()},
                               headers=staff())).status_code == 404
        assert (await http.get(f"{API}/offices/GL-GLOUCESTER/calendar", params={"date": day.isoformat(), "days": 9},
                               headers=staff())).status_code == 422
        use = (await http.get(f"{API}/utilisation", params={"from": day.isoformat(), "to": day.isoformat()},
                              headers=staff())).json()
        used = next(r for r in use["rooms"] if r["room_id"] == conference["room_id"])
        assert used["hours_booked"] >= 2 and 0 < used["utilisation"] <= 1
