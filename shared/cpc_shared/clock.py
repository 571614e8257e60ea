"""The injectable clock: every rule that depends on "now" asks a Clock, never the system directly."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """Wall-clock time shifted to start at `start` and run `speed` times faster (simulations, demos)."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        self._origin = datetime.now(UTC)
        self._start = start.astimezone(UTC)
        self._speed = speed

    def now(self) -> datetime:
        elapsed = datetime.now(UTC) - self._origin
        return self._start + elapsed * self._speed


class OffsetFileClock:
    """Wall-clock time plus an offset in seconds read from a file: several processes move through time
    together when one file is changed (multi-process tests of timers, and the simulated month)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._seen: tuple[float, float] = (-1.0, 0.0)  # (file mtime, offset)

    def offset(self) -> float:
        try:
            mtime = os.stat(self._path).st_mtime
        except FileNotFoundError:
            return 0.0
        if mtime != self._seen[0]:
            with open(self._path) as file:
                text = file.read().strip()
            self._seen = (mtime, float(text or 0))
        return self._seen[1]

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset())


class FixedClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, by: timedelta) -> None:
        self._at += by

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)
