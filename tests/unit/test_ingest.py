from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from domain.errors import InvalidInput, RateLimited, TooLarge
from domain.model import Limits
from tests.unit.fakes import World, pgp, upload


async def test_upload_is_stored_under_the_identity_prefix_with_its_digest() -> None:
    world = World()
    who = await world.system()
    body = pgp(5000)
    backup = (await world.ingest(who, upload(body))).backup
    assert backup.size == 5000
    assert backup.sha256 == hashlib.sha256(body).hexdigest()
    assert backup.object_key == f"{who.org_id}/{who.system_key}/{backup.id}"
    assert await world.object_keys() == [backup.object_key]


async def test_the_uploaders_address_is_kept_with_the_backup() -> None:
    world = World()
    who = await world.system()
    sent = replace(upload(pgp(100)), uploader_ip="198.51.100.23")
    backup = (await world.ingest(who, sent)).backup
    assert backup.uploader_ip == "198.51.100.23"
    assert [b.uploader_ip for b in await world.catalog.stored_backups(who.system_id)] == ["198.51.100.23"]


async def test_only_the_newest_remain_past_the_slot_cap() -> None:
    world = World()
    who = await world.system()
    ids = [(await world.ingest(who, upload(pgp(10)))).backup.id for _ in range(5)]
    stored = await world.catalog.stored_backups(who.system_id)
    assert [b.id for b in stored] == ids[-3:]
    assert len(await world.object_keys()) == 3


async def test_rate_limit_refuses_the_seventh_upload_in_a_minute() -> None:
    world = World(limits=Limits(max_upload_size=100, max_per_system=10, max_size_per_system=1000, max_size_per_org=0))
    who = await world.system()
    for _ in range(6):
        await world.ingest(who, upload(pgp(10)))
    with pytest.raises(RateLimited) as refused:
        await world.ingest(who, upload(pgp(10)))
    assert 1 <= refused.value.retry_after <= 60
    world.clock.advance(61)
    await world.ingest(who, upload(pgp(10)))


async def test_cap_crossed_mid_stream_leaves_nothing() -> None:
    world = World()
    who = await world.system()
    with pytest.raises(TooLarge) as refused:
        await world.ingest(who, upload(pgp(20_000), declared=False))
    assert refused.value.key == "body"
    assert await world.object_keys() == []
    assert world.catalog.rows == {}


async def test_empty_and_plaintext_bodies_are_refused_before_any_row() -> None:
    world = World()
    who = await world.system()
    with pytest.raises(InvalidInput, match="empty"):
        await world.ingest(who, upload(b"", declared=False))
    with pytest.raises(InvalidInput, match="OpenPGP"):
        await world.ingest(who, upload(b"hello world"))
    assert world.catalog.rows == {}


async def test_org_quota_counts_bytes_retention_frees() -> None:
    world = World(windows={})
    who = await world.system(quota=30)
    for _ in range(6):
        await world.ingest(who, upload(pgp(10)))
    assert world.catalog.used[who.org_id] == 30
    with pytest.raises(TooLarge, match="org_quota"):
        await world.ingest(who, upload(pgp(21)))
