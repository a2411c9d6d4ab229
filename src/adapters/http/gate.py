"""Per process: how many uploads of one system may be in flight, and how long a body may stay silent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

from domain.errors import BodyIdle, RateLimited

# What a system told to wait because its own uploads are still in flight is asked to wait.
BUSY_RETRY_AFTER = 30


class UploadGate:
    """At most `per_system` uploads of one system at once (the next is `429` before its body is read,
    and spends no rate-limit slot); a body that sends nothing for `idle_seconds` ends as `BodyIdle`."""

    def __init__(self, idle_seconds: float = 60.0, per_system: int = 2) -> None:
        self.idle_seconds = idle_seconds
        self.per_system = per_system
        self._inflight: dict[str, int] = {}

    @contextmanager
    def admit(self, system_key: str) -> Iterator[None]:
        count = self._inflight.get(system_key, 0)
        if count >= self.per_system:
            raise RateLimited(BUSY_RETRY_AFTER)
        self._inflight[system_key] = count + 1
        try:
            yield
        finally:
            left = self._inflight[system_key] - 1
            if left:
                self._inflight[system_key] = left
            else:
                del self._inflight[system_key]

    async def body(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """`chunks`, each awaited at most `idle_seconds`."""
        while True:
            try:
                async with asyncio.timeout(self.idle_seconds):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise BodyIdle(self.idle_seconds) from None
            yield chunk
