"""The restore use case and its policies (ranges), on the in-memory adapters."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from domain.errors import ChecksumMismatch, Forbidden, InvalidInput, NotFound, RangeNotSatisfiable
from domain.model import SystemIdentity
from domain.ranges import ByteSpan, RangeRequest, resolve
from domain.restore import BackupAccess, Download, verified
from tests.unit.fakes import World, pgp, upload


def access(world: World) -> BackupAccess:
    return world.services.access


async def read(download: Download) -> bytes:
    return b"".join([chunk async for chunk in download.chunks])


async def test_listing_is_newest_first_with_usage_against_the_caps() -> None:
    world = World()
    who = await world.system()
    first = (await world.ingest(who, upload(pgp(100)))).backup
    second = (await world.ingest(who, upload(pgp(300)))).backup
    listing = await access(world).listing(who)
    assert [b.id for b in listing.backups] == [second.id, first.id]
    assert (listing.usage.count, listing.usage.total_size) == (2, 400)
    assert (listing.usage.max_count, listing.usage.max_total_size) == (3, 10_000)


async def test_fetch_streams_the_whole_backup_or_the_range_asked_for() -> None:
    world = World()
    who = await world.system()
    data = pgp(5000)
    backup = (await world.ingest(who, upload(data))).backup
    whole = await access(world).fetch(who, backup.id)
    assert whole.span == ByteSpan(0, 5000, 5000)
    assert await read(whole) == data
    part = await access(world).fetch(who, backup.id, RangeRequest(100, 199))
    assert await read(part) == data[100:200]
    tail = await access(world).fetch(who, backup.id, RangeRequest(None, 50))
    assert await read(tail) == data[-50:]


async def test_another_systems_backup_is_not_found_never_forbidden() -> None:
    world = World()
    mine = await world.system()
    backup = (await world.ingest(mine, upload(pgp(100)))).backup
    theirs = await world.system()
    with pytest.raises(NotFound):
        await access(world).fetch(theirs, backup.id)
    with pytest.raises(NotFound):
        await access(world).delete(theirs, backup.id)
    assert len((await access(world).listing(mine)).backups) == 1


@pytest.mark.parametrize("bad", ["../../etc/passwd", "not-an-id", "01900000-0000-4000-8000-000000000000.bin", ""])
async def test_a_malformed_id_is_invalid_before_any_lookup(bad: str) -> None:
    world = World()
    who = await world.system()
    with pytest.raises(InvalidInput) as raised:
        await access(world).fetch(who, bad)
    assert raised.value.key == "id"
    with pytest.raises(InvalidInput):
        await access(world).delete(who, bad)


async def test_delete_frees_the_usage_and_erases_object_and_row() -> None:
    world = World()
    who = await world.system(quota=1000)
    backup = (await world.ingest(who, upload(pgp(800)))).backup
    assert (await world.catalog.org_usage(who.org_id)).used_bytes == 800
    deleted = await access(world).delete(who, backup.id)
    assert deleted.id == backup.id
    assert (await world.catalog.org_usage(who.org_id)).used_bytes == 0
    assert await world.object_keys() == []
    assert world.catalog.rows == {}
    with pytest.raises(NotFound):
        await access(world).delete(who, backup.id)


async def test_append_only_refuses_deletes_but_keeps_reads() -> None:
    world = World(append_only=True)
    who = await world.system()
    backup = (await world.ingest(who, upload(pgp(100)))).backup
    with pytest.raises(Forbidden):
        await access(world).delete(who, backup.id)
    assert len((await access(world).listing(who)).backups) == 1


async def test_a_vanished_object_is_not_found() -> None:
    world = World()
    who = await world.system()
    backup = (await world.ingest(who, upload(pgp(100)))).backup
    await world.objects.delete(backup.object_key)
    with pytest.raises(NotFound):
        await access(world).fetch(who, backup.id)


async def test_verified_raises_after_the_last_chunk_when_the_digest_differs() -> None:
    world = World()
    who = await world.system()
    data = pgp(2000)
    backup = (await world.ingest(who, upload(data))).backup
    good = await access(world).fetch(who, backup.id)
    assert b"".join([c async for c in verified(good)]) == data
    assert hashlib.sha256(data).hexdigest() == backup.sha256
    bad = await access(world).fetch(who, backup.id)
    tampered = replace(bad, backup=replace(bad.backup, sha256="00" * 32))
    with pytest.raises(ChecksumMismatch):
        [c async for c in verified(tampered)]


@pytest.mark.parametrize(
    ("wanted", "span"),
    [
        (None, (0, 1000)),
        (RangeRequest(0, 99), (0, 100)),
        (RangeRequest(100, None), (100, 1000)),
        (RangeRequest(None, 50), (950, 1000)),
        (RangeRequest(None, 5000), (0, 1000)),
        (RangeRequest(990, 5000), (990, 1000)),
        (RangeRequest(999, 999), (999, 1000)),
    ],
)
def test_ranges_resolve_and_clip_to_the_object(wanted: RangeRequest | None, span: tuple[int, int]) -> None:
    resolved = resolve(wanted, 1000)
    assert (resolved.start, resolved.end, resolved.size) == (*span, 1000)
    assert resolved.whole is (span == (0, 1000))


@pytest.mark.parametrize("wanted", [RangeRequest(1000, None), RangeRequest(5000, 6000), RangeRequest(None, 0)])
def test_a_range_outside_the_object_is_not_satisfiable(wanted: RangeRequest) -> None:
    with pytest.raises(RangeNotSatisfiable) as raised:
        resolve(wanted, 1000)
    assert raised.value.size == 1000


def test_a_backwards_or_empty_range_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="precedes"):
        RangeRequest(10, 5)
    with pytest.raises(ValueError, match="needs"):
        RangeRequest(None, None)


def test_identity_type_is_the_domains() -> None:
    assert SystemIdentity("a", "b", "c").org_id == "c"
