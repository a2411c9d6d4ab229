"""The MaintenanceCatalog contract (what fsck and the reaper see): in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from uuid6 import uuid7

from domain.maintenance import MaintenanceCatalog
from domain.model import BackupState, Limits
from domain.ports import BackupCatalog, SystemDirectory
from tests.integration.contracts.builders import intent, new_org, new_system, now
from tests.integration.services import Ledger

LIMITS = Limits(max_upload_size=1000, max_per_system=3, max_size_per_system=1000, max_size_per_org=0)


async def test_every_row_is_seen_whatever_its_state_oldest_first(
    directory: SystemDirectory, catalog: BackupCatalog, maintenance: MaintenanceCatalog
) -> None:
    who = await new_system(directory, await new_org(directory))
    kept, gone, begun = intent(who, 10), intent(who, 20), intent(who, 30)
    when = now()
    for started in (kept, gone):
        await catalog.begin_upload(started)
        await catalog.commit_upload(started, LIMITS, when)
    await catalog.begin_deletion(who.system_id, gone.id)
    await catalog.begin_upload(begun)
    assert await maintenance.all_backups() == [
        replace(kept, state=BackupState.STORED, committed_at=when),
        replace(gone, state=BackupState.DELETING, committed_at=when),
        begun,
    ]


async def test_every_org_has_a_usage_counter_zero_included(
    directory: SystemDirectory, catalog: BackupCatalog, maintenance: MaintenanceCatalog
) -> None:
    busy, idle = await new_org(directory), await new_org(directory)
    who = await new_system(directory, busy)
    started = intent(who, 10)
    await catalog.begin_upload(started)
    await catalog.commit_upload(started, LIMITS, now())
    assert await maintenance.recorded_usage() == {busy: 10, idle: 0}


async def test_set_usage_overwrites_the_counter_and_ignores_unknown_orgs(
    directory: SystemDirectory, catalog: BackupCatalog, maintenance: MaintenanceCatalog
) -> None:
    org_id = await new_org(directory)
    await maintenance.set_usage(org_id, 42)
    await maintenance.set_usage(str(uuid7()), 7)
    assert await maintenance.recorded_usage() == {org_id: 42}
    assert (await catalog.org_usage(org_id)).used_bytes == 42


async def test_forget_removes_rows_in_any_state_and_uncounts_only_stored_ones(
    directory: SystemDirectory, catalog: BackupCatalog, maintenance: MaintenanceCatalog
) -> None:
    org_id = await new_org(directory)
    who = await new_system(directory, org_id)
    stored, deleting, begun = intent(who, 10), intent(who, 20), intent(who, 30)
    for started in (stored, deleting):
        await catalog.begin_upload(started)
        await catalog.commit_upload(started, LIMITS, now())
    await catalog.begin_deletion(who.system_id, deleting.id)
    await catalog.begin_upload(begun)
    await maintenance.forget([deleting.id, begun.id])
    assert (await catalog.org_usage(org_id)).used_bytes == 10
    await maintenance.forget([stored.id, str(uuid7())])
    await maintenance.forget([])
    assert await maintenance.all_backups() == []
    assert (await catalog.org_usage(org_id)).used_bytes == 0


async def test_a_lease_has_one_holder_at_a_time(maintenance: MaintenanceCatalog, ledger: Ledger) -> None:
    async with maintenance.lease("reaper") as held:
        assert held is True
        async with maintenance.lease("reaper") as again:
            # SQLite serves one host whose writers serialise anyway: every pass there holds the lease.
            assert again is (ledger.backend == "sqlite")
        async with maintenance.lease("fsck") as other:
            assert other is True
    async with maintenance.lease("reaper") as after:
        assert after is True


async def test_keep_alive_marks_only_an_intent_still_uploading(
    directory: SystemDirectory, catalog: BackupCatalog, maintenance: MaintenanceCatalog
) -> None:
    who = await new_system(directory, await new_org(directory))
    begun, done = intent(who, 0), intent(who, 5)
    for started in (begun, done):
        await catalog.begin_upload(started)
    await catalog.commit_upload(done, LIMITS, now())
    later = now() + timedelta(minutes=30)
    for backup_id in (begun.id, done.id, str(uuid7()) + ".bin"):
        await catalog.keep_alive(backup_id, later)
    rows = {row.id: row for row in await maintenance.all_backups()}
    assert rows[begun.id] == replace(begun, alive_at=later)
    assert rows[begun.id].last_heard == later
    assert rows[done.id].alive_at is None
    assert rows[done.id].last_heard == done.uploaded_at
