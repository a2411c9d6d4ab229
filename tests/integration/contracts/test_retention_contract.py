"""Retention on every catalog (memory, SQLite, PostgreSQL): policies at the commit, protected backups,
applying a policy now. The timelines are the property test's, replayed against its reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import Protected, TooLarge
from domain.events import Actor, EventType, Via
from domain.model import Backup, Limits, RetentionPolicy, SystemIdentity
from domain.ports import BackupCatalog, EventLog, SystemDirectory
from domain.retention import PruneRule
from tests.integration.contracts.builders import intent, new_org, new_system
from tests.unit.test_retention_property import reference

LIMITS = Limits(max_upload_size=1000, max_per_system=10, max_size_per_system=1000, max_size_per_org=0)
START = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
HOUR, DAY = 3600, 86400
TIMELINES = {
    "hourly for three days": [HOUR] * 72,
    "daily for five weeks": [DAY] * 35,
    "bursts across months": [60, 60, 60, 20 * DAY, 60, 9 * DAY, 3 * DAY, 60, 31 * DAY, 60, 60, 8 * DAY] * 3,
}
TIERED = RetentionPolicy(keep_last=2, keep_daily=3, keep_weekly=2, keep_monthly=3)


async def commit(
    catalog: BackupCatalog, who: SystemIdentity, size: int, at: datetime, limits: Limits = LIMITS
) -> Backup:
    started = intent(who, size, uploaded_at=at)
    await catalog.begin_upload(started)
    committed = await catalog.commit_upload(started, limits, at)
    await catalog.finish_deletion([b.id for b in committed.pruned])
    return started


@pytest.mark.parametrize("timeline", TIMELINES)
async def test_a_timeline_keeps_what_the_reference_keeps(
    directory: SystemDirectory, catalog: BackupCatalog, timeline: str
) -> None:
    org = await new_org(directory)
    assert (await directory.set_org_retention(org, TIERED)).retention == TIERED
    who = await new_system(directory, org)
    at, kept = START, list[tuple[str, datetime, bool]]()
    for gap in TIMELINES[timeline]:
        at += timedelta(seconds=gap)
        started = await commit(catalog, who, 10, at)
        stamps = [*kept, (started.id, at, False)]
        expected = reference(stamps, TIERED)
        kept = [s for s in stamps if expected[s[0]] is not None]
    stored = await catalog.stored_backups(who.system_id)
    assert [b.id for b in stored] == sorted(i for i, _, _ in kept)
    assert [b.uploaded_at for b in stored] == sorted(a for _, a, _ in kept)
    assert (await catalog.org_usage(org)).used_bytes == sum(b.size for b in stored)


async def test_without_its_own_policy_an_org_follows_the_default(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    org = await new_org(directory)
    await directory.set_org_retention(org, TIERED)
    assert (await directory.set_org_retention(org, None)).retention is None
    assert (await catalog.org_usage(org)).retention is None
    who = await new_system(directory, org)
    three = Limits(max_upload_size=1000, max_per_system=3, max_size_per_system=1000, max_size_per_org=0)
    for day in range(5):
        await commit(catalog, who, 10, START + timedelta(days=day), three)
    assert len(await catalog.stored_backups(who.system_id)) == 3


async def test_protected_backups_are_never_pruned_nor_deleted(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    who = await new_system(directory, await new_org(directory))
    first = await commit(catalog, who, 10, START)
    held = await catalog.set_protection(who.system_id, first.id, "before the upgrade", protected=True, max_protected=3)
    assert held is not None
    assert (held.protected, held.protected_note) == (True, "before the upgrade")
    single = Limits(max_upload_size=1000, max_per_system=1, max_size_per_system=1000, max_size_per_org=0)
    for hour in range(1, 4):
        await commit(catalog, who, 10, START + timedelta(hours=hour), single)
    stored = await catalog.stored_backups(who.system_id)
    # The protected one is outside the slot count: it and the newest remain.
    assert [b.id for b in stored] == [first.id, stored[-1].id]
    with pytest.raises(Protected):
        await catalog.begin_deletion(who.system_id, first.id)
    with pytest.raises(Protected):
        await catalog.begin_system_deletion(who.system_id)
    assert len(await catalog.stored_backups(who.system_id)) == 2
    assert (await catalog.org_usage(who.org_id)).used_bytes == 20
    freed = await catalog.set_protection(who.system_id, first.id, None, protected=False, max_protected=3)
    assert freed is not None
    assert (freed.protected, freed.protected_note) == (False, None)
    assert await catalog.begin_deletion(who.system_id, first.id) is not None


async def test_one_past_the_most_protected_is_refused(directory: SystemDirectory, catalog: BackupCatalog) -> None:
    who = await new_system(directory, await new_org(directory))
    backups = [await commit(catalog, who, 10, START + timedelta(hours=h)) for h in range(3)]
    for backup in backups[:2]:
        await catalog.set_protection(who.system_id, backup.id, None, protected=True, max_protected=2)
    # Protecting one again (a new note) is no new protection.
    again = await catalog.set_protection(who.system_id, backups[0].id, "new", protected=True, max_protected=2)
    assert again is not None
    assert again.protected_note == "new"
    with pytest.raises(Protected):
        await catalog.set_protection(who.system_id, backups[2].id, None, protected=True, max_protected=2)
    assert [b.protected for b in await catalog.stored_backups(who.system_id)] == [True, True, False]
    assert await catalog.set_protection(who.system_id, "nope", None, protected=True, max_protected=2) is None


async def test_destroy_with_consent_takes_protected_backups_too(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    who = await new_system(directory, await new_org(directory))
    first = await commit(catalog, who, 10, START)
    await catalog.set_protection(who.system_id, first.id, None, protected=True, max_protected=3)
    rows = await catalog.begin_system_deletion(who.system_id, include_protected=True)
    assert [r.id for r in rows] == [first.id]
    assert (await catalog.org_usage(who.org_id)).used_bytes == 0


async def test_an_upload_that_cannot_fit_beside_the_protected_bytes_changes_nothing(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    who = await new_system(directory, await new_org(directory))
    small = Limits(max_upload_size=100, max_per_system=3, max_size_per_system=100, max_size_per_org=0)
    kept = await commit(catalog, who, 60, START, small)
    await catalog.set_protection(who.system_id, kept.id, None, protected=True, max_protected=3)
    await commit(catalog, who, 30, START + timedelta(hours=1), small)
    started = intent(who, 50, uploaded_at=START + timedelta(hours=2))
    await catalog.begin_upload(started)
    with pytest.raises(TooLarge) as refused:
        await catalog.commit_upload(started, small, START + timedelta(hours=2))
    assert refused.value.key == "size_cap"
    assert [b.size for b in await catalog.stored_backups(who.system_id)] == [60, 30]
    assert (await catalog.org_usage(who.org_id)).used_bytes == 90
    # One that fits beside them prunes the oldest unprotected one instead.
    await commit(catalog, who, 40, START + timedelta(hours=3), small)
    assert [b.size for b in await catalog.stored_backups(who.system_id)] == [60, 40]
    assert (await catalog.org_usage(who.org_id)).used_bytes == 100


async def test_applying_a_tighter_policy_prunes_now_with_its_rules(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    org = await new_org(directory)
    who = await new_system(directory, org)
    backups = [await commit(catalog, who, 10, START + timedelta(days=d)) for d in range(6)]
    assert (await catalog.apply_retention(who.system_id, LIMITS)).pruned == []
    await directory.set_org_retention(org, RetentionPolicy(keep_last=1, keep_daily=2))
    applied = await catalog.apply_retention(who.system_id, LIMITS)
    assert [b.id for b in applied.pruned] == [b.id for b in backups[:3]]
    assert dict(applied.rules) == {b.id: PruneRule.DAILY for b in backups[:3]}
    assert [b.id for b in await catalog.stored_backups(who.system_id)] == [b.id for b in backups[3:]]
    assert (await catalog.org_usage(org)).used_bytes == 30
    await catalog.finish_deletion([b.id for b in applied.pruned])
    assert (await catalog.apply_retention(who.system_id, LIMITS)).pruned == []


async def test_protection_and_applied_prunes_are_logged_in_their_transaction(
    directory: SystemDirectory, catalog: BackupCatalog, events: EventLog
) -> None:
    org = await new_org(directory)
    who = await new_system(directory, org)
    backups = [await commit(catalog, who, 10, START + timedelta(days=d)) for d in range(3)]
    await catalog.set_protection(who.system_id, backups[0].id, "pin", protected=True, max_protected=3, via=Via.ADMIN)
    await catalog.set_protection(who.system_id, backups[0].id, None, protected=False, max_protected=3, via=Via.CLI)
    with pytest.raises(Protected):
        await catalog.set_protection(who.system_id, backups[1].id, None, protected=True, max_protected=0)
    await directory.set_org_retention(org, RetentionPolicy(keep_last=1))
    await catalog.apply_retention(who.system_id, LIMITS)
    log = (await events.events_after(-1, 10_000))[-5:]
    assert [(e.type, e.backup_id, e.actor, dict(e.detail)) for e in log] == [
        (EventType.BACKUP_PROTECTED, backups[0].id, Actor.OPERATOR, {"via": "admin", "note": "pin"}),
        (EventType.BACKUP_UNPROTECTED, backups[0].id, Actor.OPERATOR, {"via": "cli"}),
        (EventType.ORG_RETENTION_CHANGED, None, Actor.OPERATOR, dict(log[2].detail)),
        (EventType.BACKUP_PRUNED, backups[0].id, Actor.SERVICE, {"rule": "last"}),
        (EventType.BACKUP_PRUNED, backups[1].id, Actor.SERVICE, {"rule": "last"}),
    ]
    assert log[2].detail["keep_last"] == 1
