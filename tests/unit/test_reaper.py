"""The reaper finishes what store failures and crashes left half-done."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from domain.errors import StoreUnavailable
from domain.maintenance import usage_drift
from domain.model import BackupState
from domain.reaper import Reaper
from tests.unit.fakes import World, chunks, pgp, upload


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
    ingest = replace(world.ingest, objects=flaky)  # type: ignore[arg-type]
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


async def test_only_one_reaper_pass_runs_at_a_time() -> None:
    world = World(windows={})
    reaper = world.reaper
    async with world.maintenance.lease("reaper"):
        assert (await reaper()).ran is False
    assert (await reaper()).ran is True
    first, second = await asyncio.gather(reaper(), reaper())
    assert first.ran is True
    assert second.ran in {True, False}
