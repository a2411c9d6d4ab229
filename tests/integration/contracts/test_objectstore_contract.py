"""The ObjectStore contract: obstore over memory, local files and S3."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import ObjectMissing
from domain.ports import ObjectStore, StoredObject


async def body(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


class BodyFailed(Exception):
    """What the body's producer raises (in the service: ClientGone, or TooLarge past the cap)."""


async def broken_body(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    raise BodyFailed("client went away")


async def listed(objects: ObjectStore, prefix: str = "") -> list[StoredObject]:
    return sorted([o async for o in objects.list(prefix)], key=lambda o: o.key)


async def read(objects: ObjectStore, key: str) -> bytes:
    opened = await objects.get(key)
    return b"".join([chunk async for chunk in opened.chunks])


async def test_put_streams_every_chunk_and_reports_the_bytes_written(objects: ObjectStore) -> None:
    written = await objects.put("org/sys/a.tar.gz", body(b"-----BEGIN", b" PGP ", b"MESSAGE-----" * 100))
    assert written == 10 + 5 + 12 * 100
    assert await read(objects, "org/sys/a.tar.gz") == b"-----BEGIN PGP " + b"MESSAGE-----" * 100
    [stored] = await listed(objects)
    assert (stored.key, stored.size) == ("org/sys/a.tar.gz", written)


async def test_an_error_raised_by_the_body_propagates_unchanged_and_leaves_nothing(objects: ObjectStore) -> None:
    with pytest.raises(BodyFailed, match="client went away"):
        await objects.put("org/sys/b.bin", broken_body([b"x" * 1000, b"y" * 1000]))
    assert await listed(objects) == []
    with pytest.raises(ObjectMissing):
        await objects.get("org/sys/b.bin")


async def test_a_second_put_replaces_the_object(objects: ObjectStore) -> None:
    await objects.put("k", body(b"first version"))
    assert await objects.put("k", body(b"second")) == 6
    assert await read(objects, "k") == b"second"
    assert [(o.key, o.size) for o in await listed(objects)] == [("k", 6)]


async def test_delete_removes_and_deleting_an_absent_key_is_a_no_op(objects: ObjectStore) -> None:
    await objects.put("org/sys/c.bin", body(b"abc"))
    await objects.delete("org/sys/c.bin")
    await objects.delete("org/sys/c.bin")
    await objects.delete("never/was/there")
    assert await listed(objects) == []
    with pytest.raises(ObjectMissing):
        await objects.get("org/sys/c.bin")


async def test_list_sees_exactly_the_objects_under_a_prefix(objects: ObjectStore) -> None:
    for key in ("o1/s1/1.bin", "o1/s1/2.bin", "o1/s2/1.bin", "o2/s1/1.bin"):
        await objects.put(key, body(key.encode()))
    assert [o.key for o in await listed(objects, "o1/s1/")] == ["o1/s1/1.bin", "o1/s1/2.bin"]
    assert [o.key for o in await listed(objects, "o1/")] == ["o1/s1/1.bin", "o1/s1/2.bin", "o1/s2/1.bin"]
    assert [o.key for o in await listed(objects, "o3/")] == []
    assert len(await listed(objects)) == 4
    assert all(o.size == len(o.key) for o in await listed(objects))


async def test_get_reads_a_range_and_reports_the_whole_size(objects: ObjectStore) -> None:
    await objects.put("r", body(bytes(range(256)) * 4))
    opened = await objects.get("r", 10, 20)
    assert opened.size == 1024
    assert b"".join([c async for c in opened.chunks]) == bytes(range(10, 20))
    tail = await objects.get("r", 1000)
    assert b"".join([c async for c in tail.chunks]) == (bytes(range(256)) * 4)[1000:]


async def test_get_of_a_missing_key_is_object_missing(objects: ObjectStore) -> None:
    with pytest.raises(ObjectMissing):
        await objects.get("org/sys/none.bin")


async def test_a_reachable_store_answers_ping(objects: ObjectStore) -> None:
    await objects.ping()


async def test_move_renames_and_a_missing_source_is_object_missing(objects: ObjectStore) -> None:
    await objects.put("org/sys/d.bin", body(b"quarantined"))
    await objects.move("org/sys/d.bin", "quarantine/org/sys/d.bin")
    assert [o.key for o in await listed(objects)] == ["quarantine/org/sys/d.bin"]
    assert await read(objects, "quarantine/org/sys/d.bin") == b"quarantined"
    with pytest.raises(ObjectMissing):
        await objects.move("org/sys/d.bin", "quarantine/again.bin")


async def test_a_store_after_complete_writes_has_nothing_abandoned(objects: ObjectStore) -> None:
    await objects.put("org/sys/e.bin", body(b"e"))
    assert await objects.abandoned(datetime.now(UTC) + timedelta(days=1)) == []
