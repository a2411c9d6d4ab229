"""The port methods of restore and operations, against every adapter: directory + catalog in memory, on
SQLite and on PostgreSQL; the object store in memory, on local files and on S3."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from uuid6 import uuid7

from domain.credentials import hash_secret, verify_secret
from domain.errors import NotFound, ObjectMissing
from domain.model import Backup, BackupState, Limits, Organization, SystemIdentity
from domain.ports import BackupCatalog, ObjectStore, SystemDirectory
from tests.integration.contracts.builders import intent, new_org, new_system, now

LIMITS = Limits(max_upload_size=1000, max_per_system=3, max_size_per_system=1000, max_size_per_org=0)
T0 = datetime(2026, 4, 12, 2, 15, 30, 123456, tzinfo=UTC)


async def stored(catalog: BackupCatalog, who: SystemIdentity, size: int, at: datetime = T0) -> Backup:
    backup = intent(who, size, at)
    await catalog.begin_upload(backup)
    assert (await catalog.commit_upload(backup, LIMITS, now())).pruned == []
    return (await catalog.get_backup(who.system_id, backup.id)) or backup


# --- SystemDirectory ------------------------------------------------------------------------------


async def test_orgs_are_listed_by_id_and_their_quota_can_be_set_and_cleared(directory: SystemDirectory) -> None:
    first = await new_org(directory, name="First")
    second = await new_org(directory, name="Second", quota=5)
    assert [o.id for o in await directory.list_orgs()] == [first, second]
    changed = await directory.set_org_quota(first, 0)
    assert changed == Organization(id=first, name="First", quota_bytes=0)
    assert (await directory.get_org(first)) == changed
    assert (await directory.set_org_quota(second, None)).quota_bytes is None
    with pytest.raises(NotFound):
        await directory.set_org_quota(str(uuid7()), 1)


async def test_systems_are_found_by_key_and_listed_by_org(directory: SystemDirectory) -> None:
    acme, beta = await new_org(directory), await new_org(directory)
    b = await new_system(directory, acme, "b-sys")
    a = await new_system(directory, acme, "a-sys")
    other = await new_system(directory, beta, "c-sys")
    record = await directory.get_system("a-sys")
    assert record is not None
    assert record.identity == a
    assert record.suspended is False
    assert await directory.get_system("nope") is None
    assert [r.identity for r in await directory.list_systems(acme)] == [a, b]
    assert [r.identity for r in await directory.list_systems()] == [a, b, other]
    await directory.set_suspended("b-sys", True)
    assert [r.suspended for r in await directory.list_systems(acme)] == [False, True]


async def test_a_new_secret_replaces_the_old_one(directory: SystemDirectory) -> None:
    who = await new_system(directory, await new_org(directory))
    await directory.set_secret(who.system_key, hash_secret("fresh"))
    assert await directory.authenticate(who.system_key, "secret") is None
    assert await directory.authenticate(who.system_key, "fresh") == who
    with pytest.raises(NotFound):
        await directory.set_secret("nope", hash_secret("x"))
    assert verify_secret("fresh", hash_secret("fresh"))


async def test_a_deleted_system_is_gone_and_deleting_it_again_is_a_no_op(directory: SystemDirectory) -> None:
    who = await new_system(directory, await new_org(directory))
    await directory.delete_system(who.system_key)
    assert await directory.get_system(who.system_key) is None
    assert await directory.authenticate(who.system_key, "secret") is None
    await directory.delete_system(who.system_key)


# --- BackupCatalog --------------------------------------------------------------------------------


async def test_get_backup_sees_only_the_systems_own_stored_backups(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    org = await new_org(directory)
    mine, theirs = await new_system(directory, org), await new_system(directory, org)
    backup = await stored(catalog, mine, 100)
    found = await catalog.get_backup(mine.system_id, backup.id)
    assert found is not None
    assert (found.id, found.size, found.state, found.uploaded_at) == (backup.id, 100, BackupState.STORED, T0)
    assert await catalog.get_backup(theirs.system_id, backup.id) is None
    assert await catalog.get_backup(mine.system_id, f"{uuid7()}.bin") is None


async def test_begin_deletion_uncounts_at_once_and_finish_removes_the_row(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    org = await new_org(directory)
    who, other = await new_system(directory, org), await new_system(directory, org)
    keep = await stored(catalog, who, 100)
    gone = await stored(catalog, who, 300)
    assert (await catalog.org_usage(org)).used_bytes == 400
    assert await catalog.begin_deletion(other.system_id, gone.id) is None
    deleting = await catalog.begin_deletion(who.system_id, gone.id)
    assert deleting is not None
    assert deleting.state is BackupState.DELETING
    assert (await catalog.org_usage(org)).used_bytes == 100
    assert await catalog.get_backup(who.system_id, gone.id) is None
    assert [b.id for b in await catalog.stored_backups(who.system_id)] == [keep.id]
    # A second delete of the same backup finds nothing to uncount.
    assert await catalog.begin_deletion(who.system_id, gone.id) is None
    assert (await catalog.org_usage(org)).used_bytes == 100
    await catalog.finish_deletion([gone.id])


async def test_begin_system_deletion_marks_every_row_and_uncounts_the_stored_ones(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    org = await new_org(directory)
    who, neighbour = await new_system(directory, org), await new_system(directory, org)
    first = await stored(catalog, who, 100)
    second = await stored(catalog, who, 200)
    await stored(catalog, neighbour, 50)
    rows = await catalog.begin_system_deletion(who.system_id)
    assert sorted(r.id for r in rows) == sorted([first.id, second.id])
    assert {r.state for r in rows} == {BackupState.DELETING}
    assert (await catalog.org_usage(org)).used_bytes == 50
    # Idempotent: a rerun returns the rows again and uncounts nothing twice.
    assert len(await catalog.begin_system_deletion(who.system_id)) == 2
    assert (await catalog.org_usage(org)).used_bytes == 50
    await catalog.finish_deletion([r.id for r in rows])
    assert await catalog.begin_system_deletion(who.system_id) == []
    await directory.delete_system(who.system_key)
    assert await directory.get_system(who.system_key) is None


# --- ObjectStore ----------------------------------------------------------------------------------


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _read(objects: ObjectStore, key: str, start: int = 0, end: int | None = None) -> tuple[int, bytes]:
    opened = await objects.get(key, start, end)
    return opened.size, b"".join([chunk async for chunk in opened.chunks])


async def test_get_streams_the_whole_object_or_a_range(objects: ObjectStore) -> None:
    data = bytes(range(256)) * 40
    await objects.put("org/sys/a.bin", _once(data))
    assert await _read(objects, "org/sys/a.bin") == (len(data), data)
    assert await _read(objects, "org/sys/a.bin", 0, 100) == (len(data), data[:100])
    assert await _read(objects, "org/sys/a.bin", 100) == (len(data), data[100:])
    assert await _read(objects, "org/sys/a.bin", len(data) - 50, len(data)) == (len(data), data[-50:])


async def test_get_of_a_missing_object_is_object_missing(objects: ObjectStore) -> None:
    with pytest.raises(ObjectMissing):
        await objects.get("org/sys/none.bin")
    with pytest.raises(ObjectMissing):
        await objects.get("org/sys/none.bin", 0, 10)


async def test_list_by_prefix_keeps_to_whole_path_segments(objects: ObjectStore) -> None:
    await objects.put("org/fw-1/a.bin", _once(b"a"))
    await objects.put("org/fw-10/b.bin", _once(b"b"))
    assert [o.key async for o in objects.list("org/fw-1/")] == ["org/fw-1/a.bin"]
