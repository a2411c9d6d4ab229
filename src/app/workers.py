"""The background workers of a serve process (reaper, and the ones to come): one small runner for all.

A worker is a name, an interval and a pass: an async callable that does one round of work and returns
what it did. The runner gives each worker a task of its own: a pass at start (to finish what a crash
left), then one every interval. Each pass runs under the worker's lease, named after the worker, so among
replicas one at a time does the work and the others let that turn go. A pass that fails is logged and
tried again at the next turn; a worker never stops another. `stop` cancels them all at shutdown.

To add a worker: one line (name, interval, pass) in `app.composition._workers`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from domain.errors import DomainError

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
"""How the runner waits between passes: `asyncio.sleep`, or a test's fake that moves a FrozenClock."""


class Leases(Protocol):
    """Single flight across replicas (MaintenanceCatalog satisfies it)."""

    def lease(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Yields True for the one holder of `name`, False for the others."""
        ...


class SoleReplica:
    """The lease when no shared ledger can hold one: this process is taken to be the only replica."""

    @asynccontextmanager
    async def lease(self, name: str) -> AsyncIterator[bool]:  # noqa: ARG002 (every name is held here)
        yield True


@dataclass(frozen=True, slots=True)
class Worker:
    name: str
    """Its lease's name, and its name in the log."""
    every: timedelta
    run: Callable[[], Awaitable[object]]
    """One pass. What it returns is logged (info) when truthy: give it a `__str__` that says what was done."""


@dataclass(slots=True)
class WorkerRunner:
    workers: Sequence[Worker]
    leases: Leases = field(default_factory=SoleReplica)
    sleep: Sleep = asyncio.sleep
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False)

    async def run_once(self, worker: Worker) -> bool:
        """One pass of `worker` under its lease; False when another replica holds it or the pass failed."""
        try:
            async with self.leases.lease(worker.name) as held:
                if not held:
                    return False
                result = await worker.run()
        except DomainError as exc:
            log.warning("%s pass failed: %s", worker.name, exc)
            return False
        except Exception:
            log.exception("%s pass failed", worker.name)
            return False
        if result:
            log.info("%s: %s", worker.name, result)
        return True

    async def _forever(self, worker: Worker) -> None:
        while True:
            await self.run_once(worker)
            await self.sleep(worker.every.total_seconds())

    def start(self) -> None:
        """Each worker's first pass begins at once, on a task of its own."""
        self._tasks = [asyncio.create_task(self._forever(w), name=f"worker:{w.name}") for w in self.workers]

    async def stop(self) -> None:
        """Cancel every worker (a pass in progress is cut short, as at a crash) and wait until they end."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
