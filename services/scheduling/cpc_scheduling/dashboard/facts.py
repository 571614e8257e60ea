"""What the dashboard reads from elsewhere, server-side: each conference's reports and the family's views from the
reports service's staff API and each office's room calendar from the rooms service's, both with the signed-in
user's own token (the other services decide what that user may see); the dead letters waiting, from Kafka."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import httpx
from cpc_shared.logging import get_logger

from cpc_scheduling.dashboard.week import Standing

log = get_logger(__name__)
TIMEOUT = httpx.Timeout(10.0)


class Unavailable(Exception):
    """Another service did not answer (or refused): the section says so rather than the page failing."""


class TeamFacts:
    def __init__(self, reports_url: str, rooms_url: str, dead_letters: Callable[[], Awaitable[dict[str, int]]],
                 dead_letters_every: float = 15.0) -> None:
        self.reports_url, self.rooms_url = reports_url.rstrip("/"), rooms_url.rstrip("/")
        self._dead_letters, self._every = dead_letters, dead_letters_every
        self._read: tuple[float, dict[str, int]] | None = None
        self._lock = asyncio.Lock()

    async def _get(self, base: str, path: str, token: str, params: Any = None) -> Any:
        try:
            async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT,
                                         headers={"Authorization": f"Bearer {token}"}) as client:
                response = await client.get(path, params=params)
        except httpx.HTTPError as error:
            log.warning("dashboard_read_failed", service=base, error=type(error).__name__)
            raise Unavailable(f"{base} did not answer") from None
        if response.status_code != 200:
            log.warning("dashboard_read_refused", service=base, status=response.status_code)
            raise Unavailable(f"{base} answered {response.status_code}")
        return response.json()

    async def standings(self, conference_ids: list[str], token: str) -> dict[str, Standing]:
        """Reports in, late, missing, awaited, and the family's views in, for each conference."""
        if not conference_ids:
            return {}
        found = await self._get(self.reports_url, "/api/conference-reports", token,
                                params=[("conference_id", cid) for cid in conference_ids])
        return {facts["conference_id"]: Standing.of(facts) for facts in found}

    async def room_calendars(self, office_ids: list[str], first: date, days: int, token: str) -> list[dict[str, Any]]:
        """Each office's rooms and their bookings, `days` from `first` (at most 7, as the rooms API allows)."""
        return list(await asyncio.gather(*(
            self._get(self.rooms_url, f"/api/offices/{office_id}/calendar", token,
                      params={"date": first.isoformat(), "days": days}) for office_id in office_ids)))

    async def dead_letters(self) -> dict[str, int]:
        """Dead letters waiting per topic, read from Kafka at most every `dead_letters_every` seconds."""
        async with self._lock:
            if self._read is None or time.monotonic() - self._read[0] > self._every:
                try:
                    counts = await asyncio.wait_for(self._dead_letters(), timeout=10)
                except Exception as error:  # Kafka unreachable: say so on the page, try again next time
                    log.warning("dashboard_dead_letters_failed", error=type(error).__name__)
                    raise Unavailable("Kafka did not answer") from None
                self._read = (time.monotonic(), counts)
            return self._read[1]
