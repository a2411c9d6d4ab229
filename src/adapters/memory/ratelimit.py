"""In-memory RateLimiter: moving windows kept as timestamps per key."""

from __future__ import annotations

import math
from collections import defaultdict, deque

from domain.ports import Allowed, Clock, Denied


class InMemoryRateLimiter:
    """`windows` maps a window length in seconds to the hits it allows; 0 hits disables it."""

    def __init__(self, windows: dict[int, int], clock: Clock) -> None:
        self._windows = {length: hits for length, hits in windows.items() if hits > 0}
        self._clock = clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    async def acquire(self, system_key: str) -> Allowed | Denied:
        return self._ask(system_key, spend=True)

    async def check(self, key: str) -> Allowed | Denied:
        return self._ask(key, spend=False)

    def _ask(self, system_key: str, *, spend: bool) -> Allowed | Denied:
        now = self._clock.now().timestamp()
        hits = self._hits[system_key]
        longest = max(self._windows, default=0)
        while hits and hits[0] <= now - longest:
            hits.popleft()
        wait = 0.0
        for length, allowed in self._windows.items():
            recent = [t for t in hits if t > now - length]
            if len(recent) >= allowed:
                wait = max(wait, recent[-allowed] + length - now)
        if wait > 0:
            return Denied(max(1, math.ceil(wait)))
        if spend:
            hits.append(now)
        return Allowed()
