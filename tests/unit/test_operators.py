"""Operator use cases (organizations, systems, stale, destroy) and durations, on the in-memory adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from adapters.objectstore.obstore_adapter import ObstoreObjectStore
from domain.destroy import DestroySystem
from domain.durations import parse_duration
from domain.errors import InvalidInput, NotFound, StoreUnavailable
from domain.organizations import OrgAdmin
from domain.systems import SystemAdmin
from tests.unit.fakes import World, pgp, upload


def orgs(world: World, default_quota: int = 1000) -> OrgAdmin:
    return OrgAdmin(directory=world.directory, catalog=world.catalog, default_quota=default_quota)


def systems(world: World) -> SystemAdmin:
    return world.services.systems


@pytest.mark.parametrize(
    ("text", "seconds"), [("90m", 5400), ("36h", 129600), ("2d", 172800), ("1w", 604800), ("45s", 45), (" 3 h ", 10800)]
)
def test_durations_take_s_m_h_d_w(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "36", "h", "1.5h", "2y", "-1h", "1h30m"])
def test_other_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="s m h d w"):
        parse_duration(text)


async def test_org_usage_and_quota_follow_the_default_until_set() -> None:
    world = World()
    who = await world.system()
    await world.ingest(who, upload(pgp(300)))
    admin = orgs(world)
    [summary] = await admin.list_orgs()
    assert (summary.id, summary.used_bytes, summary.systems, summary.quota_bytes) == (who.org_id, 300, 1, None)
    shown = await admin.show(who.org_id)
    assert (shown.quota_bytes, shown.effective_quota_bytes) == (None, 1000)
    assert (await admin.set_quota(who.org_id, 0)).effective_quota_bytes == 0
    assert (await admin.set_quota(who.org_id, 5000)).effective_quota_bytes == 5000
    assert (await admin.set_quota(who.org_id, None)).effective_quota_bytes == 1000
    assert (await orgs(world, default_quota=0).show(who.org_id)).effective_quota_bytes == 0
    with pytest.raises(InvalidInput):
        await admin.set_quota(who.org_id, -1)
    with pytest.raises(NotFound):
        await admin.show("nope")
    with pytest.raises(NotFound):
        await admin.set_quota("nope", 1)


async def test_systems_show_their_backups_at_a_glance_and_their_caps() -> None:
    world = World()
    who = await world.system()
    backup = (await world.ingest(who, upload(pgp(300)))).backup
    [row] = await systems(world).list_systems()
    assert (row.system_key, row.backups, row.total_size, row.last_backup_at) == (
        who.system_key,
        1,
        300,
        backup.uploaded_at,
    )
    assert await systems(world).list_systems(who.org_id) == [row]
    shown = await systems(world).show(who.system_key)
    assert (shown.max_count, shown.max_total_size, shown.suspended) == (3, 10_000, False)
    with pytest.raises(NotFound):
        await systems(world).list_systems("nope")
    with pytest.raises(NotFound):
        await systems(world).show("nope")


async def test_stale_lists_quiet_systems_and_those_that_never_uploaded() -> None:
    world = World()
    quiet, busy = await world.system(), await world.system()
    never = await world.system()
    await world.ingest(quiet, upload(pgp(100)))
    world.clock.advance(40 * 3600)
    await world.ingest(busy, upload(pgp(100)))
    found = await systems(world).stale("36h")
    assert [s.system_key for s in found] == [never.system_key, quiet.system_key]
    assert found[0].last_backup_at is None
    assert [s.system_key for s in await systems(world).stale(timedelta(days=2))] == [never.system_key]
    with pytest.raises(InvalidInput) as raised:
        await systems(world).stale("soon")
    assert raised.value.key == "older_than"


class FailingDeletes(ObstoreObjectStore):
    """The same store, but every delete after the first `allowed` ones fails."""

    def __init__(self, inner: ObstoreObjectStore, allowed: int) -> None:
        super().__init__(inner._store)
        self.allowed = allowed

    async def delete(self, key: str) -> None:
        if self.allowed <= 0:
            raise StoreUnavailable("injected")
        self.allowed -= 1
        await super().delete(key)


async def test_destroy_stops_at_the_first_store_error_and_a_rerun_completes_it() -> None:
    world = World()
    who = await world.system()
    neighbour = await world.system()
    for _ in range(3):
        await world.ingest(who, upload(pgp(100)))
    kept = (await world.ingest(neighbour, upload(pgp(100)))).backup
    failing = FailingDeletes(world.objects, allowed=1)
    destroy = DestroySystem(directory=world.directory, catalog=world.catalog, objects=failing)
    with pytest.raises(StoreUnavailable):
        await destroy(who.system_key)
    # One object erased with its row; two rows stay (deleting, uncounted) for the rerun.
    assert len([r for r in world.catalog.rows.values() if r.system_id == who.system_id]) == 2
    assert (await world.catalog.org_usage(who.org_id)).used_bytes == 0
    record = await world.directory.get_system(who.system_key)
    assert record is not None
    assert record.suspended
    failing.allowed = 100
    done = await destroy(who.system_key)
    assert (done.system_key, done.deleted_objects) == (who.system_key, 2)
    assert await world.directory.get_system(who.system_key) is None
    assert [r.id for r in world.catalog.rows.values()] == [kept.id]
    assert await world.object_keys() == [kept.object_key]
    with pytest.raises(NotFound):
        await destroy(who.system_key)


async def test_destroy_erases_objects_without_rows_under_the_prefix() -> None:
    world = World()
    who = await world.system()
    await world.ingest(who, upload(pgp(100)))

    async def once() -> AsyncIterator[bytes]:
        yield b"stray"

    await world.objects.put(f"{who.org_id}/{who.system_key}/stray.bin", once())
    destroy = world.services.destroy
    assert (await destroy(who.system_key)).deleted_objects == 2
    assert await world.object_keys() == []
