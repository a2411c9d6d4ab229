"""The upload gate on its own (`adapters/http/gate.py`): uploads in flight per system, and the body idle
timeout, on the event loop with short times. Through real HTTP: tests/integration/test_upload_bounds_http.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.http.aborted import BodyIdle
from adapters.http.answers import RETRY_AFTER
from adapters.http.gate import UploadGate
from domain.errors import RateLimited

IDLE = 0.2


async def paced(parts: int, pause: float) -> AsyncIterator[bytes]:
    for _ in range(parts):
        await asyncio.sleep(pause)
        yield b"x" * 10


async def received(gate: UploadGate, chunks: AsyncIterator[bytes], busy: float = 0.0) -> int:
    """Consume the gated body as ingest would, spending `busy` seconds on each chunk."""
    size = 0
    async for chunk in gate.body(chunks):
        size += len(chunk)
        if busy:
            await asyncio.sleep(busy)
    return size


def test_the_third_upload_of_one_system_in_flight_is_refused_with_retry_after() -> None:
    gate = UploadGate(per_system=2)
    with gate.admit("fw-1"), gate.admit("fw-1"), pytest.raises(RateLimited) as refused, gate.admit("fw-1"):
        pass
    assert refused.value.retry_after == RETRY_AFTER


def test_another_system_is_admitted_while_one_is_at_its_limit() -> None:
    gate = UploadGate(per_system=1)
    with gate.admit("fw-1"), gate.admit("fw-2"):
        pass


def test_a_finished_or_failed_upload_gives_its_place_back() -> None:
    gate = UploadGate(per_system=1)
    with gate.admit("fw-1"):
        pass
    with pytest.raises(ValueError, match="the upload failed"), gate.admit("fw-1"):
        raise ValueError("the upload failed")
    with gate.admit("fw-1"):  # admitted again: both places were returned
        pass


async def test_a_body_silent_past_the_idle_time_ends_as_body_idle() -> None:
    gate = UploadGate(idle_seconds=IDLE)
    with pytest.raises(BodyIdle):
        await received(gate, paced(parts=2, pause=IDLE * 3))


async def test_a_slow_but_steady_body_is_never_cut_off() -> None:
    gate = UploadGate(idle_seconds=IDLE)
    # Twice the idle time in all, but never a silence near it (the margin absorbs a busy machine's delays).
    assert await received(gate, paced(parts=20, pause=IDLE / 10)) == 200


async def test_time_the_consumer_spends_on_a_chunk_does_not_count_as_silence() -> None:
    gate = UploadGate(idle_seconds=IDLE)
    assert await received(gate, paced(parts=2, pause=0), busy=IDLE * 2) == 20


async def test_another_cancellation_of_a_waiting_upload_stays_a_cancellation() -> None:
    gate = UploadGate(idle_seconds=60)
    task = asyncio.ensure_future(received(gate, paced(parts=3, pause=10)))
    await asyncio.sleep(0.01)
    task.cancel()  # a shutdown's, not the watchdog's
    with pytest.raises(asyncio.CancelledError):
        await task
