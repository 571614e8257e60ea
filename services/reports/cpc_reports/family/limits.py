"""How often the family's form may be asked for: per link and per address, in a sliding window, in this process.

Enough for a person saving again and again; too few for anyone trying links or filling the store."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict, deque

MAX_KEYS = 50_000  # keys remembered at once: the oldest go first, so memory stays bounded whatever is sent


class RateLimit:
    def __init__(self, requests: int, per_seconds: float) -> None:
        self.requests, self.per_seconds = requests, per_seconds
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Count a request for `key`; False (not counted) if it has had its share in the window."""
        now, key = time.monotonic() if now is None else now, _short(key)
        times = self._seen.pop(key, None) or deque()
        while times and times[0] <= now - self.per_seconds:
            times.popleft()
        allowed = len(times) < self.requests
        if allowed:
            times.append(now)
        self._seen[key] = times
        while len(self._seen) > MAX_KEYS:
            self._seen.popitem(last=False)
        return allowed

    def retry_after(self, key: str, now: float | None = None) -> int:
        """Seconds until `key` may ask again."""
        now = time.monotonic() if now is None else now
        times = self._seen.get(_short(key))
        return max(1, int(times[0] + self.per_seconds - now) + 1) if times else 1


def _short(key: str) -> str:
    """A key of a fixed size, whatever was sent (a link can be long), and not the link itself kept in memory."""
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
