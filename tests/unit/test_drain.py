"""The graceful drain on its own (`adapters/http/drain.py`), on the event loop: uploads in flight finish, new
ones are refused, those still streaming at the end are cancelled into `ShuttingDown`. Against a real
`serve` and its signals: tests/integration/test_shutdown.py."""

from __future__ import annotations

import asyncio

import pytest

from adapters.http.aborted import ShuttingDown
from adapters.http.drain import Drain


async def upload(drain: Drain, started: asyncio.Event, finish: asyncio.Event) -> str:
    """An upload as the handler runs it: admitted by the drain, then streaming until `finish`."""
    async with drain.admit():
        started.set()
        await finish.wait()
    return "stored"


async def test_uploads_are_counted_while_in_flight_and_the_drain_is_idle_after() -> None:
    drain = Drain()
    started, finish = asyncio.Event(), asyncio.Event()
    task = asyncio.ensure_future(upload(drain, started, finish))
    await started.wait()
    assert drain.inflight == 1
    assert await drain.idle(0.01) is False
    finish.set()
    assert await task == "stored"
    assert drain.inflight == 0
    assert await drain.idle(0.01) is True


async def test_once_closed_a_new_upload_is_refused_and_one_in_flight_finishes() -> None:
    drain = Drain()
    started, finish = asyncio.Event(), asyncio.Event()
    task = asyncio.ensure_future(upload(drain, started, finish))
    await started.wait()
    drain.close()
    with pytest.raises(ShuttingDown):
        await upload(drain, asyncio.Event(), asyncio.Event())
    finish.set()
    assert await task == "stored"
    assert await drain.idle(1) is True


async def test_abort_cancels_what_still_streams_into_shutting_down_and_waits_for_it() -> None:
    drain = Drain()
    started = asyncio.Event()
    task = asyncio.ensure_future(upload(drain, started, asyncio.Event()))
    await started.wait()
    drain.close()
    assert await drain.abort(1) is True
    with pytest.raises(ShuttingDown):
        await task
    assert drain.inflight == 0


async def test_a_cancellation_that_is_not_the_drains_stays_a_cancellation() -> None:
    drain = Drain()
    started = asyncio.Event()
    task = asyncio.ensure_future(upload(drain, started, asyncio.Event()))
    await started.wait()
    task.cancel()  # the client's connection task going away, say: not a shutdown
    with pytest.raises(asyncio.CancelledError):
        await task
    assert drain.inflight == 0
