"""Failed attempts at an operator's secret (console sign-in, admin bearer token), limited per client."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import RateLimited
from domain.ports import Denied, RateLimiter

FAILURES_PER_MINUTE = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedAttempts:
    """At most `FAILURES_PER_MINUTE` failed attempts a minute from one client address; past that, every
    attempt from it (the right secret too, or guessing could go on) is refused until the minute frees.
    Other addresses are not affected.

    `limiter` counts failures only, in a namespace of its own with a 60 s window of
    `FAILURES_PER_MINUTE`: on Redis every replica shares it.
    """

    limiter: RateLimiter

    async def admit(self, client: str | None) -> None:
        """Raises RateLimited while `client` has spent its failures; spends nothing."""
        decision = await self.limiter.check(_key(client))
        if isinstance(decision, Denied):
            raise RateLimited(decision.retry_after)

    async def failed(self, client: str | None) -> None:
        """Count one failure of `client`. Raises RateLimited when it was one too many."""
        decision = await self.limiter.acquire(_key(client))
        if isinstance(decision, Denied):
            raise RateLimited(decision.retry_after)


def _key(client: str | None) -> str:
    # Clients with no usable address (a trusted proxy's bogus entry) share one bucket.
    return client or "unknown"
