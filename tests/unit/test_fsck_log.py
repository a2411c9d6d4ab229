"""fsck learns the log: a stored backup with no `backup.stored` entry, or an entry for a backup gone without
`backup.pruned`/`backup.deleted`, is a problem; a repair that drops a stored row logs `backup.quarantined`."""

from __future__ import annotations

from domain.events import EventType
from tests.unit.fakes import World, pgp, upload


async def stored_world() -> tuple[World, str]:
    world = World(windows={})
    who = await world.system()
    backup = (await world.ingest(who, upload(pgp(100)))).backup
    world.clock.advance(2 * 3600)  # older than fsck's grace
    return world, backup.id


async def test_a_log_that_matches_the_rows_is_no_problem() -> None:
    world, _ = await stored_world()
    assert world.services.fsck is not None
    report = await world.services.fsck()
    assert (report.ok, report.problems) == (True, [])


async def test_a_stored_backup_without_its_entry_is_reported() -> None:
    world, backup_id = await stored_world()
    events = world.catalog.tables.events
    events[:] = [e for e in events if e.type is not EventType.BACKUP_STORED]
    assert world.services.fsck is not None
    report = await world.services.fsck()
    assert not report.ok
    assert [p.kind for p in report.problems] == ["unlogged_backup"]
    assert backup_id in report.problems[0].detail


async def test_a_backup_gone_without_a_removal_entry_is_reported() -> None:
    world, backup_id = await stored_world()
    row = world.catalog.tables.backups.pop(backup_id)
    await world.objects.delete(row.object_key)
    world.catalog.tables.used[row.org_id] = 0
    assert world.services.fsck is not None
    report = await world.services.fsck()
    assert [p.kind for p in report.problems] == ["unlogged_removal"]
    assert backup_id in report.problems[0].key


async def test_a_repair_that_drops_a_stored_row_logs_backup_quarantined() -> None:
    world, backup_id = await stored_world()
    row = world.catalog.tables.backups[backup_id]
    await world.objects.delete(row.object_key)
    assert world.services.fsck is not None
    report = await world.services.fsck(repair=True)
    assert [p.kind for p in report.repaired] == ["missing_object"]
    last = world.catalog.tables.events[-1]
    assert (last.type, last.backup_id, dict(last.detail)) == (
        EventType.BACKUP_QUARANTINED,
        backup_id,
        {"reason": "missing_object", "moved_to": None},
    )
    assert (await world.services.fsck()).ok
