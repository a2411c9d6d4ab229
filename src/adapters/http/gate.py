"""Per process: how many uploads of one system may be in flight, and how long a body may stay silent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

from adapters.http.aborted import BodyIdle, TooManyInFlight
from adapters.http.answers import RETRY_AFTER


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
            raise TooManyInFlight(RETRY_AFTER)
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
        """`chunks`, each awaited at most `idle_seconds` (time the consumer spends on a chunk does not
        count). One watchdog timer per upload instead of a timeout per chunk: a chunk costs two clock
        reads, so the guard does not slow the stream."""
        watch = _Watchdog(asyncio.get_running_loop(), self.idle_seconds)
        try:
            while True:
                watch.waiting = asyncio.current_task()
                watch.since = watch.loop.time()
                try:
                    chunk = await anext(chunks)
                except StopAsyncIteration:
                    return
                except asyncio.CancelledError:
                    if watch.expired():
                        raise BodyIdle(self.idle_seconds) from None
                    raise
                finally:
                    watch.waiting = None
                yield chunk
        finally:
            watch.stop()


class _Watchdog:
    """Cancels the task waiting for a chunk once it has waited `seconds`; `expired` tells that
    cancellation (taken back) from any other, such as a shutdown's."""

    def __init__(self, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        self.loop = loop
        self.seconds = seconds
        self.waiting: asyncio.Task[Any] | None = None
        self.since = loop.time()
        self._cancelled: asyncio.Task[Any] | None = None
        self._timer = loop.call_later(seconds, self._check)

    def _check(self) -> None:
        if self.waiting is None:  # the consumer is busy with a chunk: look again soon
            self._timer = self.loop.call_later(self.seconds / 4, self._check)
            return
        left = self.since + self.seconds - self.loop.time()
        if left > 0:
            self._timer = self.loop.call_later(left, self._check)
            return
        self._cancelled = self.waiting
        self.waiting.cancel("no body received in time")

    def expired(self) -> bool:
        """True when this watchdog's cancellation is the only one pending (it is then withdrawn)."""
        return self._cancelled is not None and self._cancelled.uncancel() == 0

    def stop(self) -> None:
        self._timer.cancel()
