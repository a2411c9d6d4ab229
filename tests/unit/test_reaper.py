"""The reaper finishes what store failures and crashes left half-done."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

from domain.errors import StoreUnavailable
from domain.maintenance import usage_drift
from domain.model import BackupState, Limits, Upload
from domain.reaper import Reaper
from tests.unit.fakes import AsUploaded, World, chunks, pgp, upload


class FlakyDeletes:
    """Wraps an ObjectStore; deletes fail while `broken` is set."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.broken = True

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def delete(self, key: str) -> None:
        if self.broken:
            raise StoreUnavailable("injected: delete refused")
        await self.inner.delete(key)  # type: ignore[attr-defined]


async def test_a_victim_whose_object_could_not_be_erased_is_finished_by_the_reaper() -> None:
    world = World(windows={})
    flaky = FlakyDeletes(world.objects)
    ingest = AsUploaded(replace(world.ingest.use_case, objects=flaky))  # type: ignore[arg-type]
    who = await world.system()
    for _ in range(4):
        await ingest(who, upload(pgp(10)))
    states = sorted(row.state for row in world.catalog.rows.values())
    assert states.count(BackupState.DELETING) == 1
    assert world.catalog.used[who.org_id] == 30  # the victim no longer counts
    assert len(await world.object_keys()) == 4

    reaper = Reaper(catalog=world.maintenance, objects=flaky, clock=world.clock)  # type: ignore[arg-type]
    assert (await reaper()).deleted == 0  # the store still refuses: the row waits
    flaky.broken = False
    assert (await reaper()).deleted == 1
    assert len(world.catalog.rows) == 3
    assert len(await world.object_keys()) == 3
    assert usage_drift(world.catalog.rows.values(), {who.org_id: world.catalog.used[who.org_id]}) == []


async def test_stale_intents_are_reaped_and_young_ones_left_alone() -> None:
    world = World(windows={})
    who = await world.system()
    backup = (await world.ingest(who, upload(pgp(10)))).backup
    crashed = replace(
        backup, id="x" + backup.id, object_key=backup.object_key + ".crashed", state=BackupState.UPLOADING
    )
    await world.catalog.begin_upload(crashed)
    await world.objects.put(crashed.object_key, chunks(b"partial"))
    reaper = world.reaper

    assert (await reaper()).stale == 0
    world.clock.advance(3601)
    assert (await reaper()).stale == 1
    assert list(world.catalog.rows) == [backup.id]
    assert await world.object_keys() == [backup.object_key]


async def test_an_upload_still_receiving_is_never_reaped_however_long_it_takes() -> None:
    limits = Limits(max_upload_size=100_000, max_per_system=3, max_size_per_system=100_000, max_size_per_org=0)
    world = World(windows={}, limits=limits)
    who = await world.system()
    reaped: list[int] = []

    async def two_hours_a_chunk_a_minute() -> AsyncIterator[bytes]:
        yield pgp(1000)
        for _ in range(120):
            world.clock.advance(60)
            reaped.append((await world.reaper()).stale)  # the reaper's 5-minute passes, and more
            yield b"x" * 100

    body = Upload(filename_header="slow.tar.gz.gpg", declared_size=13_000, body=two_hours_a_chunk_a_minute())
    result = await world.ingest(who, body)
    assert result.backup.size == 13_000
    assert sum(reaped) == 0
    assert [b.state for b in world.catalog.rows.values()] == [BackupState.STORED]


async def test_an_intent_silent_for_an_hour_is_still_reaped_after_beating_once() -> None:
    world = World(windows={})
    who = await world.system()
    started = asyncio.Event()
    stall = asyncio.Event()

    async def beats_once_then_hangs() -> AsyncIterator[bytes]:
        yield pgp(100)
        world.clock.advance(120)
        yield b"x" * 10  # a heartbeat is recorded here
        started.set()
        await stall.wait()
        yield b"never"

    task = asyncio.ensure_future(world.ingest(who, upload_of(beats_once_then_hangs())))
    await started.wait()
    world.clock.advance(59 * 60)
    assert (await world.reaper()).stale == 0  # 59 minutes since its last sign of life
    world.clock.advance(2 * 60)
    assert (await world.reaper()).stale == 1
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def upload_of(body: AsyncIterator[bytes]) -> Upload:
    return Upload(filename_header="x.gpg", declared_size=None, body=body)
