"""The injectable clock: every rule that depends on "now" asks a Clock, never the system directly."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
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

    def looked(self, job: str, offset: float, started: float) -> None:
        """Tell whoever moves the clock that `job` has done, and published, what fell due by this offset, in a
        look that began at `started` (wall-clock seconds): the file `<clock file>.looked.<job>`, replaced whole,
        which the simulation reads before it moves the clock on."""
        path = f"{self._path}.looked.{job}"
        with open(f"{path}.new", "w") as file:
            file.write(f"{offset!r} {started!r}")
        os.replace(f"{path}.new", path)


def looks_since(clock_path: Path, offset: float, since: float) -> bool | None:
    """Whether every timer that says when it has looked (`OffsetFileClock.looked`) has, at this offset, in a look
    that began at `since` or later; None when no timer says so."""
    said = [path for path in clock_path.parent.glob(f"{clock_path.name}.looked.*") if not path.name.endswith(".new")]
    if not said:
        return None
    for path in said:
        try:
            seen, started = (float(part) for part in path.read_text().split())
        except (OSError, ValueError):  # being replaced: ask again
            return False
        if seen != offset or started < since:
            return False
    return True


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
