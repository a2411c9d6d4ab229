"""Graceful shutdown: once draining, new uploads get 503 while those in flight finish."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from adapters.http.aborted import ShuttingDown


class Drain:
    """Counts uploads in flight and refuses new ones once `close` was called."""

    def __init__(self) -> None:
        self.accepting = True
        self.aborting = False
        self.inflight = 0
        self._uploads: set[asyncio.Task[object]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        if not self.accepting:
            raise ShuttingDown("shutting down")
        self.inflight += 1
        self._idle.clear()
        task = asyncio.current_task()
        if task is not None:
            self._uploads.add(task)
        try:
            yield
        except asyncio.CancelledError:
            # Cancelled by `abort` (the ingest use case has discarded what it wrote by now): answer
            # 503 in the envelope instead of letting the cancellation reach uvicorn as a plain 500.
            if task is None or not self.aborting or task.uncancel() > 0:
                raise
            raise ShuttingDown("shutting down: the upload was cancelled") from None
        finally:
            self._uploads.discard(task)
            self.inflight -= 1
            if self.inflight == 0:
                self._idle.set()

    def close(self) -> None:
        self.accepting = False

    async def abort(self, grace: float) -> bool:
        """Cancel the uploads still in flight and give them `grace` seconds to discard what they
        wrote (the ingest use case cleans up on cancellation, and never cuts a commit in half)."""
        self.aborting = True
        for task in list(self._uploads):
            task.cancel("the server is shutting down")
        return await self.idle(grace)

    async def idle(self, grace: float) -> bool:
        """Wait until no upload is in flight, at most `grace` seconds; True when idle."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace)
        return self.inflight == 0
