"""The SystemDirectory contract: in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from uuid6 import uuid7

from domain.credentials import hash_secret
from domain.errors import Conflict, NotFound
from domain.model import Limits, Organization
from domain.ports import BackupCatalog, OrgUsage, Standing, SystemDirectory
from tests.integration.contracts.builders import SECRET, intent, new_org, new_system


async def test_the_right_secret_authenticates_and_nothing_else_does(directory: SystemDirectory) -> None:
    who = await new_system(directory, await new_org(directory), "fw-1")
    assert await directory.authenticate("fw-1", SECRET) == who
    assert await directory.authenticate("fw-1", "wrong") is None
    assert await directory.authenticate("fw-1", "") is None
    assert await directory.authenticate("nobody", SECRET) is None


async def test_a_suspended_system_fails_authentication_until_resumed(directory: SystemDirectory) -> None:
    who = await new_system(directory, await new_org(directory), "fw-1")
    await directory.set_suspended("fw-1", True)
    assert await directory.authenticate("fw-1", SECRET) is None
    await directory.set_suspended("fw-1", False)
    assert await directory.authenticate("fw-1", SECRET) == who


async def test_suspending_an_unknown_system_is_not_found(directory: SystemDirectory) -> None:
    with pytest.raises(NotFound):
        await directory.set_suspended("nobody", True)


async def test_an_org_reads_back_with_its_quota(directory: SystemDirectory) -> None:
    for quota in (None, 0, 5 * 1024**4):
        org_id = await new_org(directory, quota)
        assert await directory.get_org(org_id) == Organization(id=org_id, name="Acme", quota_bytes=quota)
    assert await directory.get_org(str(uuid7())) is None


async def test_a_taken_system_key_is_a_conflict(directory: SystemDirectory) -> None:
    org_id = await new_org(directory)
    first = await new_system(directory, org_id, "fw-1")
    with pytest.raises(Conflict):
        await new_system(directory, await new_org(directory), "fw-1")
    assert await directory.authenticate("fw-1", SECRET) == first


async def test_a_system_of_an_unknown_org_is_not_found(directory: SystemDirectory) -> None:
    with pytest.raises(NotFound):
        await new_system(directory, str(uuid7()), "fw-2")
    assert await directory.authenticate("fw-2", SECRET) is None


async def test_a_taken_org_id_is_a_conflict(directory: SystemDirectory) -> None:
    org_id = await new_org(directory, quota=5, name="First")
    with pytest.raises(Conflict):
        await directory.create_org(Organization(id=org_id, name="Second", quota_bytes=None))
    assert await directory.get_org(org_id) == Organization(id=org_id, name="First", quota_bytes=5)


async def test_a_taken_system_id_is_a_conflict(directory: SystemDirectory) -> None:
    first = await new_system(directory, await new_org(directory), "fw-1")
    with pytest.raises(Conflict):
        await directory.create_system(replace(first, system_key="fw-2"), hash_secret(SECRET))
    assert await directory.get_system("fw-2") is None
    assert [r.identity for r in await directory.list_systems()] == [first]


async def test_a_system_that_still_has_backup_rows_is_not_deleted(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    who = await new_system(directory, await new_org(directory), "fw-1")
    started = intent(who, 10)
    await catalog.begin_upload(started)
    with pytest.raises(Conflict):
        await directory.delete_system("fw-1")
    assert await directory.authenticate("fw-1", SECRET) == who
    await catalog.abort_upload(started.id)
    await directory.delete_system("fw-1")
    assert await directory.get_system("fw-1") is None


async def test_systems_are_listed_by_key_character_by_character(directory: SystemDirectory) -> None:
    org_id = await new_org(directory)
    keys = ["b-fw", "a-fw", "B-fw", "a.fw", "a_fw", "9-fw", "A-fw"]
    for key in keys:
        await new_system(directory, org_id, key)
    assert [r.identity.system_key for r in await directory.list_systems(org_id)] == sorted(keys)
    assert [r.identity.system_key for r in await directory.list_systems()] == sorted(keys)


async def test_an_upload_authenticates_with_its_orgs_usage_and_its_stored_backups(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    org_id = await new_org(directory, quota=5000)
    who = await new_system(directory, org_id, "fw-1")
    neighbour = await new_system(directory, org_id, "fw-2")
    assert await directory.authenticate_upload("fw-1", SECRET) == Standing(who, OrgUsage(0, 5000), ())
    limits = Limits(max_upload_size=1000, max_per_system=2, max_size_per_system=1000, max_size_per_org=0)
    for owner, size in ((who, 10), (neighbour, 20), (who, 30), (who, 40)):  # the third of fw-1 prunes its first
        started = intent(owner, size)
        await catalog.begin_upload(started)
        await catalog.commit_upload(started, limits, datetime.now(UTC))
    await catalog.begin_upload(intent(who, 50))  # in flight: not stored yet

    standing = await directory.authenticate_upload("fw-1", SECRET)
    assert standing is not None
    assert standing.identity == who
    assert standing.usage == await catalog.org_usage(org_id) == OrgUsage(90, 5000)
    assert standing.stored == tuple(await catalog.stored_backups(who.system_id))
    assert [b.size for b in standing.stored] == [30, 40]
    assert await directory.authenticate_upload("fw-1", "wrong") is None
    assert await directory.authenticate_upload("nobody", SECRET) is None
    await directory.set_suspended("fw-1", True)
    assert await directory.authenticate_upload("fw-1", SECRET) is None
