"""RateLimiter on the `limits` library: moving windows in process memory or in Redis."""

from __future__ import annotations

import asyncio
import logging
import math
import time

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import MovingWindowSupport
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from domain.ports import Allowed, Denied

log = logging.getLogger(__name__)


def _async_uri(url: str) -> str:
    """SPEC names plain `memory://` and `redis://…`; `limits` wants their async variants."""
    return url if url.startswith("async+") else f"async+{url}"


class LimitsRateLimiter:
    """Per-system moving windows. Every window is tested before any is spent.

    When the shared storage (Redis) fails, uploads are allowed and a warning is logged: losing the
    rate limit for a moment is better than refusing every backup of a fleet (SPEC keeps 503 for the
    store and the database)."""

    def __init__(self, storage_url: str, per_minute: int, per_hour: int) -> None:
        storage = storage_from_string(_async_uri(storage_url))
        if not isinstance(storage, MovingWindowSupport):
            raise ValueError(f"rate-limit storage {storage_url} has no moving windows")
        self._limiter = MovingWindowRateLimiter(storage)
        self._items: list[RateLimitItem] = []
        if per_minute > 0:
            self._items.append(RateLimitItemPerMinute(per_minute))
        if per_hour > 0:
            self._items.append(RateLimitItemPerHour(per_hour))
        # Within one process, test-then-hit must not interleave; across replicas the gap is tiny.
        self._lock = asyncio.Lock()
        self.storage_failures = 0

    async def acquire(self, system_key: str) -> Allowed | Denied:
        if not self._items:
            return Allowed()
        try:
            async with self._lock:
                return await self._acquire(system_key)
        except Exception as exc:  # any storage failure: fail open, loudly
            self.storage_failures += 1
            log.warning("rate-limit storage failed (%s); allowing upload of %s", exc, system_key)
            return Allowed()

    async def _acquire(self, system_key: str) -> Allowed | Denied:
        full = [item for item in self._items if not await self._limiter.test(item, system_key)]
        if not full:
            spent = [await self._limiter.hit(item, system_key) for item in self._items]
            if all(spent):
                return Allowed()
            full = [item for item, ok in zip(self._items, spent, strict=True) if not ok]
        return Denied(await self._retry_after(full, system_key))

    async def _retry_after(self, full: list[RateLimitItem], system_key: str) -> int:
        now = time.time()
        waits = [(await self._limiter.get_window_stats(item, system_key)).reset_time - now for item in full]
        return max(1, math.ceil(max(waits)))

    async def ping(self) -> bool:
        return bool(await self._limiter.storage.check())
