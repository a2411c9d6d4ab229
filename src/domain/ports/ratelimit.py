"""Ports: the per-system upload windows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Allowed:
    """The rate limiter spent one slot in every window."""


@dataclass(frozen=True, slots=True)
class Denied:
    """Some window is full; nothing was spent. Retry after `retry_after` whole seconds (≥ 1)."""

    retry_after: int


class RateLimiter(Protocol):
    async def acquire(self, system_key: str) -> Allowed | Denied:
        """Test every window first; spend a slot in each only if all of them have room."""
        ...

    async def check(self, key: str) -> Allowed | Denied:
        """What `acquire` would answer now, spending nothing (a guard asks before it counts a failure)."""
        ...
