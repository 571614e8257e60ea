"""When a replica next needs to look at the timers it keeps in the store (due reports, reminders, texts held back).

Timers live in the store, so any replica may fire them and a restarted one simply looks again. A replica
remembers the earliest due time it knows of and looks then, or after a minute anyway (for timers other replicas
set)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime

LOOK_AGAIN_SECONDS = 60.0
NOTHING_DUE = datetime.max.replace(tzinfo=UTC)


class NextDue:
    def __init__(self) -> None:
        self.at: datetime | None = None  # None: not known, look now
        self._look_again = 0.0

    def due(self, *times: datetime | None) -> None:
        """A timer now falls due at these times: the next look comes no later."""
        if self.at is not None:
            self.at = min([self.at, *(t for t in times if t is not None)])

    def time_to_look(self, now: datetime) -> bool:
        return self.at is None or now >= self.at or time.monotonic() >= self._look_again

    def looked(self, upcoming: Iterable[datetime]) -> None:
        self.at = min(upcoming, default=NOTHING_DUE)
        self._look_again = time.monotonic() + LOOK_AGAIN_SECONDS

    def look_soon(self) -> None:
        """Something is left to do: look again at the next poll."""
        self.at = None
