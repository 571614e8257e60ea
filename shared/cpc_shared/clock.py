"""The injectable clock: every rule that depends on "now" asks a Clock, never the system directly."""

from __future__ import annotations

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
