"""The BackupCatalog contract: in memory, on SQLite and on PostgreSQL (with the matching directory)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC

import pytest
from uuid6 import uuid7

from domain.errors import CatalogUnavailable, Conflict, NotFound, TooLarge
from domain.ledger import Outcome
from domain.model import Backup, BackupState, Limits, SystemIdentity
from domain.ports import BackupCatalog, OrgUsage, SystemDirectory
from domain.retention import PruneRule
from tests.integration.contracts.builders import intent, new_org, new_system, now
from tests.integration.services import Ledger

LIMITS = Limits(max_upload_size=1000, max_per_system=3, max_size_per_system=1000, max_size_per_org=0)


async def upload(catalog: BackupCatalog, who: SystemIdentity, size: int, limits: Limits = LIMITS) -> list[Backup]:
    """begin + commit + finish the victims' deletion, as the ingest use case does."""
    started = intent(who, size)
    await catalog.begin_upload(started)
    victims = (await catalog.commit_upload(started, limits, now())).pruned
    await catalog.finish_deletion([v.id for v in victims])
    return victims


async def used(catalog: BackupCatalog, org_id: str) -> int:
    return (await catalog.org_usage(org_id)).used_bytes


async def test_a_committed_backup_reads_back_exactly(directory: SystemDirectory, catalog: BackupCatalog) -> None:
    who = await new_system(directory, await new_org(directory))
    started = intent(who, 7)
    await catalog.begin_upload(started)
    assert await catalog.stored_backups(who.system_id) == []
    when = now()
    committed = await catalog.commit_upload(started, LIMITS, when)
    assert (committed.outcome, committed.pruned) == (Outcome.STORED, [])
    (stored,) = await catalog.stored_backups(who.system_id)
    assert stored == committed.backup == replace(started, state=BackupState.STORED, committed_at=when)
    assert stored.uploaded_at.utcoffset() == UTC.utcoffset(None)
    assert await catalog.org_usage(who.org_id) == OrgUsage(used_bytes=7, quota_override=None)


async def test_the_commit_records_the_final_size_and_digest(directory: SystemDirectory, catalog: BackupCatalog) -> None:
    who = await new_system(directory, await new_org(directory))
    started = intent(who, 0)
    await catalog.begin_upload(started)
    final = replace(started, size=123, sha256="cd" * 32)
    await catalog.commit_upload(final, LIMITS, now())
    (stored,) = await catalog.stored_backups(who.system_id)
    assert (stored.size, stored.sha256) == (123, "cd" * 32)
    assert await used(catalog, who.org_id) == 123


async def test_the_oldest_backups_are_pruned_past_the_slot_cap(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    who = await new_system(directory, await new_org(directory))
    pruned = [v for _ in range(5) for v in await upload(catalog, who, 10)]
    stored = await catalog.stored_backups(who.system_id)
    assert len(stored) == 3
    assert [b.id for b in stored] == sorted(b.id for b in stored)
    assert len(pruned) == 2
    assert max(v.id for v in pruned) < stored[0].id
    assert await used(catalog, who.org_id) == 30


async def test_the_victims_come_back_marked_deleting(
    directory: SystemDirectory, catalog: BackupCatalog, ledger: Ledger, request: pytest.FixtureRequest
) -> None:
    who = await new_system(directory, await new_org(directory))
    single = Limits(max_upload_size=1000, max_per_system=1, max_size_per_system=1000, max_size_per_org=0)
    first = intent(who, 10)
    await catalog.begin_upload(first)
    when = now()
    await catalog.commit_upload(first, single, when)
    second = intent(who, 20)
    await catalog.begin_upload(second)
    committed = await catalog.commit_upload(second, single, now())
    (victim,) = committed.pruned
    assert victim == replace(first, state=BackupState.DELETING, committed_at=when)
    assert committed.rules == {first.id: PruneRule.LAST}


async def test_the_oldest_backups_are_pruned_past_the_size_cap(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    who = await new_system(directory, await new_org(directory))
    limits = Limits(max_upload_size=100, max_per_system=10, max_size_per_system=100, max_size_per_org=0)
    assert await upload(catalog, who, 40, limits) == []
    assert await upload(catalog, who, 40, limits) == []
    (victim,) = await upload(catalog, who, 40, limits)
    assert [b.size for b in await catalog.stored_backups(who.system_id)] == [40, 40]
    assert victim.id < (await catalog.stored_backups(who.system_id))[0].id
    assert await used(catalog, who.org_id) == 80


async def test_retention_only_prunes_the_uploading_system(directory: SystemDirectory, catalog: BackupCatalog) -> None:
    org_id = await new_org(directory)
    one, two = await new_system(directory, org_id), await new_system(directory, org_id)
    for _ in range(3):
        await upload(catalog, two, 10)
    for _ in range(4):
        await upload(catalog, one, 10)
    assert len(await catalog.stored_backups(two.system_id)) == 3
    assert len(await catalog.stored_backups(one.system_id)) == 3
    assert await used(catalog, org_id) == 60


async def test_a_quota_refusal_changes_nothing(directory: SystemDirectory, catalog: BackupCatalog) -> None:
    org_id = await new_org(directory, quota=100)
    one, two = await new_system(directory, org_id), await new_system(directory, org_id)
    await upload(catalog, one, 60)
    started = intent(two, 50)
    await catalog.begin_upload(started)
    with pytest.raises(TooLarge) as refused:
        await catalog.commit_upload(started, LIMITS, now())
    assert refused.value.key == "org_quota"
    assert await catalog.org_usage(org_id) == OrgUsage(used_bytes=60, quota_override=100)
    assert await catalog.stored_backups(two.system_id) == []
    # The intent is still there, uploading: a size that fits commits it.
    await catalog.commit_upload(replace(started, size=40), LIMITS, now())
    assert [b.size for b in await catalog.stored_backups(two.system_id)] == [40]
    assert await used(catalog, org_id) == 100


async def test_what_retention_frees_counts_against_the_quota(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    org_id = await new_org(directory, quota=100)
    who = await new_system(directory, org_id)
    single = Limits(max_upload_size=1000, max_per_system=1, max_size_per_system=1000, max_size_per_org=0)
    await upload(catalog, who, 60, single)
    assert len(await upload(catalog, who, 90, single)) == 1
    assert await used(catalog, org_id) == 90


async def test_the_default_quota_applies_unless_the_org_has_its_own(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    capped = Limits(max_upload_size=1000, max_per_system=10, max_size_per_system=1000, max_size_per_org=50)
    default_org = await new_system(directory, await new_org(directory))
    unlimited_org = await new_system(directory, await new_org(directory, quota=0))
    await upload(catalog, default_org, 50, capped)
    with pytest.raises(TooLarge):
        await upload(catalog, default_org, 1, capped)
    for _ in range(3):
        await upload(catalog, unlimited_org, 50, capped)
    assert await used(catalog, unlimited_org.org_id) == 150


async def test_an_aborted_intent_is_gone_and_aborting_twice_is_harmless(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    who = await new_system(directory, await new_org(directory))
    started = intent(who, 10)
    await catalog.begin_upload(started)
    await catalog.abort_upload(started.id)
    await catalog.abort_upload(started.id)
    await catalog.abort_upload("never-begun")
    with pytest.raises(CatalogUnavailable):
        await catalog.commit_upload(started, LIMITS, now())
    assert await catalog.stored_backups(who.system_id) == []
    assert await used(catalog, who.org_id) == 0


async def test_abort_and_finish_deletion_leave_stored_backups_alone(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    who = await new_system(directory, await new_org(directory))
    await upload(catalog, who, 10)
    (stored,) = await catalog.stored_backups(who.system_id)
    await catalog.abort_upload(stored.id)
    await catalog.finish_deletion([stored.id])
    await catalog.finish_deletion([])
    assert await catalog.stored_backups(who.system_id) == [stored]
    assert await used(catalog, who.org_id) == 10


async def test_usage_always_equals_the_stored_bytes(directory: SystemDirectory, catalog: BackupCatalog) -> None:
    org_id = await new_org(directory)
    systems = [await new_system(directory, org_id) for _ in range(2)]
    for size in (5, 17, 3, 40, 8, 21, 1):
        for who in systems:
            await upload(catalog, who, size + len(who.system_key))
    aborted = intent(systems[0], 999)
    await catalog.begin_upload(aborted)
    await catalog.abort_upload(aborted.id)
    stored = [b for who in systems for b in await catalog.stored_backups(who.system_id)]
    assert len(stored) == 6
    assert await used(catalog, org_id) == sum(b.size for b in stored)


async def test_commit_without_an_intent_is_unavailable(directory: SystemDirectory, catalog: BackupCatalog) -> None:
    who = await new_system(directory, await new_org(directory))
    with pytest.raises(CatalogUnavailable):
        await catalog.commit_upload(intent(who, 1), LIMITS, now())
    assert await used(catalog, who.org_id) == 0


async def test_the_usage_of_an_unknown_org_is_not_found(catalog: BackupCatalog) -> None:
    with pytest.raises(NotFound):
        await catalog.org_usage(str(uuid7()))


async def test_a_reachable_catalog_answers_ping(catalog: BackupCatalog) -> None:
    await catalog.ping()


async def test_concurrent_commits_never_exceed_the_quota(directory: SystemDirectory, catalog: BackupCatalog) -> None:
    org_id = await new_org(directory, quota=1000)
    systems = [await new_system(directory, org_id) for _ in range(10)]
    intents = [intent(who, 300) for who in systems]
    for started in intents:
        await catalog.begin_upload(started)
    outcomes = await asyncio.gather(*(catalog.commit_upload(i, LIMITS, now()) for i in intents), return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(refused) == 7
    assert all(isinstance(o, TooLarge) for o in refused)
    stored = [b for who in systems for b in await catalog.stored_backups(who.system_id)]
    assert sum(b.size for b in stored) == 900
    assert await used(catalog, org_id) == 900


async def test_only_an_intent_still_uploading_commits(directory: SystemDirectory, catalog: BackupCatalog) -> None:
    who = await new_system(directory, await new_org(directory))
    started = intent(who, 10)
    await catalog.begin_upload(started)
    # A system deletion marks the intent *deleting* while its body still streams: the commit must fail.
    (deleting,) = await catalog.begin_system_deletion(who.system_id)
    assert deleting.state is BackupState.DELETING
    with pytest.raises(CatalogUnavailable):
        await catalog.commit_upload(started, LIMITS, now())
    assert await catalog.stored_backups(who.system_id) == []
    assert await used(catalog, who.org_id) == 0


async def test_a_stored_backup_does_not_commit_twice(directory: SystemDirectory, catalog: BackupCatalog) -> None:
    who = await new_system(directory, await new_org(directory))
    started = intent(who, 10)
    await catalog.begin_upload(started)
    await catalog.commit_upload(started, LIMITS, now())
    with pytest.raises(CatalogUnavailable):
        await catalog.commit_upload(replace(started, size=20), LIMITS, now())
    assert [b.size for b in await catalog.stored_backups(who.system_id)] == [10]
    assert await used(catalog, who.org_id) == 10


async def test_a_taken_backup_id_or_object_key_is_a_conflict(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    who = await new_system(directory, await new_org(directory))
    started = intent(who, 10)
    await catalog.begin_upload(started)
    with pytest.raises(Conflict):
        await catalog.begin_upload(replace(started, size=99))
    with pytest.raises(Conflict):
        await catalog.begin_upload(replace(intent(who, 20), object_key=started.object_key))
    # The first intent is untouched: it commits with its own size.
    when = now()
    await catalog.commit_upload(started, LIMITS, when)
    assert await catalog.stored_backups(who.system_id) == [
        replace(started, state=BackupState.STORED, committed_at=when)
    ]


async def test_an_intent_of_an_unknown_system_is_a_conflict(directory: SystemDirectory, catalog: BackupCatalog) -> None:
    who = await new_system(directory, await new_org(directory))
    stranger = replace(who, system_id=str(uuid7()))
    with pytest.raises(Conflict):
        await catalog.begin_upload(intent(stranger, 10))
    assert await catalog.begin_system_deletion(stranger.system_id) == []


async def test_the_commit_takes_only_the_size_and_digest_from_its_argument(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    who = await new_system(directory, await new_org(directory))
    started = intent(who, 0)
    await catalog.begin_upload(started)
    when = now()
    await catalog.commit_upload(replace(started, size=5, sha256="ef" * 32, filename="other.bin"), LIMITS, when)
    (stored,) = await catalog.stored_backups(who.system_id)
    assert stored == replace(started, size=5, sha256="ef" * 32, state=BackupState.STORED, committed_at=when)


async def test_an_intent_older_than_every_kept_backup_is_pruned_at_once(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    who = await new_system(directory, await new_org(directory))
    single = Limits(max_upload_size=1000, max_per_system=1, max_size_per_system=1000, max_size_per_org=0)
    older, newer = intent(who, 10), intent(who, 20)
    await catalog.begin_upload(older)
    await catalog.begin_upload(newer)
    assert (await catalog.commit_upload(newer, single, now())).pruned == []
    # The older upload finishes last: retention keeps the newest, so the late one is superseded.
    when = now()
    late = await catalog.commit_upload(older, single, when)
    assert late.pruned == [replace(older, state=BackupState.DELETING, committed_at=when)]
    assert late.rules == {older.id: PruneRule.SUPERSEDED}
    assert [b.id for b in await catalog.stored_backups(who.system_id)] == [newer.id]
    assert await used(catalog, who.org_id) == 20
    await catalog.finish_deletion([older.id])
    assert await catalog.get_backup(who.system_id, older.id) is None
