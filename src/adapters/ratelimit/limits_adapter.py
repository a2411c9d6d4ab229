"""RateLimiter on the `limits` library: moving windows in process memory or in Redis."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping
from typing import Any, cast

import coredis
from coredis.commands import Script
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MovingWindowSupport
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from domain.ports import Allowed, Clock, Denied

log = logging.getLogger(__name__)

# A Redis that does not answer must not hold an upload for long: after this the upload goes ahead.
REDIS_TIMEOUT_S = 2.0
KEY_PREFIX = "backup-collect"
# KEYS: one list of hit times (newest first) per window. ARGV: now, then limit and length per window.
# Answers 0 after spending a slot in every window, else the seconds until the fullest one has room
# (as a string: Lua numbers would be truncated to integers on the way out).
_TEST_WINDOWS = """
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local limit, length = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local nth = redis.call('LINDEX', key, limit - 1)
  if nth and tonumber(nth) > now - length then
    -- Replicas' clocks (and calls racing on one) may put `nth` a little after `now`: never past the window.
    wait = math.max(wait, math.min(length, tonumber(nth) + length - now))
  end
end
if wait > 0 then
  return tostring(wait)
end
"""
BOTH_WINDOWS = (
    _TEST_WINDOWS
    + """
for i, key in ipairs(KEYS) do
  local limit, length = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  redis.call('LPUSH', key, ARGV[1])
  redis.call('LTRIM', key, 0, limit - 1)
  redis.call('EXPIRE', key, length)
end
return 0
"""
)
# The same test, spending nothing.
TEST_WINDOWS = _TEST_WINDOWS + "return 0\n"


class LimitsRateLimiter:
    """Per-system moving windows. Every window is tested before any is spent.

    On Redis (`redis://host:port/db`, `rediss://…`) the windows are shared by every replica: one Lua
    script tests both windows and, only when both have room, spends a slot in each: one round trip per
    upload, atomic across replicas, so no window ever holds more hits than it allows and a denied upload
    spends nothing. Each window is a list of hit times, newest first, trimmed to the window's limit.
    In process memory (`memory://`) the `limits` library's moving windows are used, tested then hit
    under one lock.

    When the storage fails (Redis down, timing out, refusing), the upload is allowed, a warning is
    logged and `storage_failures` counts it: losing the rate limit for a while is better than refusing
    every backup of a fleet, and the org quota and per-system caps still hold (they live in the
    database). SPEC keeps 503 for the object store and the database.
    """

    def __init__(
        self,
        storage_url: str,
        per_minute: int = 0,
        per_hour: int = 0,
        *,
        clock: Clock,
        timeout: float = REDIS_TIMEOUT_S,
        windows: Mapping[int, int] | None = None,
        namespace: str = "window",
    ) -> None:
        """Args:
        storage_url: `memory://` (this process only) or `redis://host:port/db` (shared).
        per_minute: Uploads allowed per system in any 60 s; 0 disables the window.
        per_hour: Uploads allowed per system in any 3600 s; 0 disables the window.
        clock: The time the Redis windows and Retry-After count from (`limits`' memory windows run on
            its own clock).
        timeout: Seconds a Redis connect or reply may take; an acquire gives up after twice that.
        windows: More windows, window length in seconds → hits allowed in it (0 disables it).
        namespace: Keeps these windows apart from other limiters' on the same storage (`window` for
            uploads; the operator guards have their own).

        Raises:
            ValueError: The URL names no storage with moving windows.
        """
        self._pool: coredis.ConnectionPool | None = None
        options: dict[str, Any] = {}
        plain = storage_url.removeprefix("async+")
        if plain.startswith(("redis://", "rediss://")):
            # Our own pool: bounded timeouts, and something to disconnect in `aclose`.
            self._pool = coredis.ConnectionPool.from_url(plain, connect_timeout=timeout, stream_timeout=timeout)
            options["connection_pool"] = self._pool
        self._script: Script[bytes] | None = None
        self._test_script: Script[bytes] | None = None
        if self._pool is not None:
            redis = coredis.Redis(connection_pool=self._pool)
            self._script = redis.register_script(BOTH_WINDOWS)
            self._test_script = redis.register_script(TEST_WINDOWS)
        self._prefix = f"{KEY_PREFIX}:{namespace}"
        storage = storage_from_string(f"async+{plain}", **options)
        if not isinstance(storage, MovingWindowSupport):
            raise ValueError(f"rate-limit storage {storage_url} has no moving windows")
        self._limiter = MovingWindowRateLimiter(storage)
        self._items: list[RateLimitItem] = []
        if per_minute > 0:
            self._items.append(RateLimitItemPerMinute(per_minute))
        if per_hour > 0:
            self._items.append(RateLimitItemPerHour(per_hour))
        for length, hits in (windows or {}).items():
            if hits > 0:
                self._items.append(RateLimitItemPerSecond(hits, length))
        # Within one process, test-then-hit must not interleave.
        self._lock = asyncio.Lock()
        self._clock = clock
        self._timeout = timeout
        self.storage_failures = 0

    async def acquire(self, system_key: str) -> Allowed | Denied:
        """Allowed (a slot spent in every window), or Denied with whole seconds to wait (nothing spent)."""
        return await self._ask(system_key, spend=True)

    async def check(self, key: str) -> Allowed | Denied:
        """As `acquire` would answer now, spending nothing."""
        return await self._ask(key, spend=False)

    async def _ask(self, system_key: str, *, spend: bool) -> Allowed | Denied:
        if not self._items:
            return Allowed()
        try:
            async with asyncio.timeout(2 * self._timeout):
                script = self._script if spend else self._test_script
                if script is not None:
                    return await self._acquire_on_redis(script, system_key)
                async with self._lock:
                    return await self._acquire(system_key, spend=spend)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any storage failure: fail open, loudly
            self.storage_failures += 1
            log.warning(
                "rate-limit storage failed (%s: %s); allowing %s unlimited",
                type(exc).__name__,
                exc,
                system_key,
            )
            return Allowed()

    async def _acquire(self, system_key: str, *, spend: bool) -> Allowed | Denied:
        full = [item for item in self._items if not await self._limiter.test(item, system_key)]
        if not full and not spend:
            return Allowed()
        if not full:
            spent = [await self._limiter.hit(item, system_key) for item in self._items]
            if all(spent):
                return Allowed()
            full = [item for item, ok in zip(self._items, spent, strict=True) if not ok]
        return Denied(await self._retry_after(full, system_key))

    async def _acquire_on_redis(self, script: Script[bytes], system_key: str) -> Allowed | Denied:
        keys: list[str | bytes] = [f"{self._prefix}/{system_key}/{item.get_expiry()}" for item in self._items]
        args: list[Any] = [repr(self._clock.now().timestamp())]
        for item in self._items:
            args += [item.amount, item.get_expiry()]
        wait = float(cast("bytes | int", await script(keys=keys, args=args)))
        if wait <= 0:
            return Allowed()
        return Denied(max(1, math.ceil(wait)))

    async def _retry_after(self, full: list[RateLimitItem], system_key: str) -> int:
        now = self._clock.now().timestamp()
        waits = []
        for item in full:
            reset = (await self._limiter.get_window_stats(item, system_key)).reset_time
            # Redis hands timestamps back through Lua's 14-digit tostring, which can land a few
            # microseconds late; no wait is ever longer than the window itself.
            waits.append(min(item.get_expiry(), math.ceil(reset - now)))
        return max(1, *waits)

    async def ping(self) -> bool:
        """True when the storage answers."""
        return bool(await self._limiter.storage.check())

    async def aclose(self) -> None:
        """Close the Redis connections (a no-op in memory)."""
        if self._pool is not None:
            self._pool.disconnect()
