"""The SystemDirectory contract: in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from uuid6 import uuid7

from domain.errors import Conflict, NotFound
from domain.model import Organization
from domain.ports import SystemDirectory
from tests.integration.contracts.builders import SECRET, new_org, new_system


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
