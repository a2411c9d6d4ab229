"""The BackupCatalog's retry rules, decided in the commit transaction: duplicate bodies and
Idempotency-Keys, in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from domain.errors import KeyInFlight, KeyReused
from domain.ledger import Outcome
from domain.model import Backup, BackupState, Limits, SystemIdentity
from domain.ports import BackupCatalog, SystemDirectory
from tests.integration.contracts.builders import intent, new_org, new_system, now

LIMITS = Limits(max_upload_size=1000, max_per_system=3, max_size_per_system=1000, max_size_per_org=0)


async def stored_one(catalog: BackupCatalog, who: SystemIdentity, size: int, key: str | None = None) -> Backup:
    started = replace(intent(who, size), idempotency_key=key)
    await catalog.begin_upload(started)
    committed = await catalog.commit_upload(started, LIMITS, now())
    assert committed.outcome is Outcome.STORED
    return committed.backup


def same_body(who: SystemIdentity, backup: Backup, key: str | None = None) -> Backup:
    return replace(intent(who, backup.size), sha256=backup.sha256, idempotency_key=key)


async def test_the_same_body_again_is_a_duplicate_that_takes_no_slot_and_prunes_nothing(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    who = await new_system(directory, await new_org(directory))
    first = await stored_one(catalog, who, 10)
    for size in (20, 30):
        await stored_one(catalog, who, size)
    before = await catalog.stored_backups(who.system_id)
    retry = same_body(who, first)
    await catalog.begin_upload(retry)
    committed = await catalog.commit_upload(retry, LIMITS, now())
    assert (committed.outcome, committed.backup, committed.pruned) == (Outcome.DUPLICATE, first, [])
    assert committed.dropped is not None
    assert committed.dropped.id == retry.id
    assert committed.dropped.state is BackupState.DELETING
    assert await catalog.stored_backups(who.system_id) == before
    assert (await catalog.org_usage(who.org_id)).used_bytes == 60
    await catalog.finish_deletion([retry.id])
    assert await catalog.get_backup(who.system_id, retry.id) is None


async def test_the_same_body_from_another_system_is_stored(directory: SystemDirectory, catalog: BackupCatalog) -> None:
    org_id = await new_org(directory)
    one, two = await new_system(directory, org_id), await new_system(directory, org_id)
    first = await stored_one(catalog, one, 10)
    theirs = same_body(two, first)
    await catalog.begin_upload(theirs)
    assert (await catalog.commit_upload(theirs, LIMITS, now())).outcome is Outcome.STORED


async def test_a_retried_key_replays_the_first_upload_and_another_body_is_refused(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    who = await new_system(directory, await new_org(directory))
    first = await stored_one(catalog, who, 10, key="k-1")
    retry = same_body(who, first, key="k-1")
    await catalog.begin_upload(retry)
    committed = await catalog.commit_upload(retry, LIMITS, now())
    assert (committed.outcome, committed.backup) == (Outcome.REPLAYED, first)
    other = replace(intent(who, 11), idempotency_key="k-1")
    await catalog.begin_upload(other)
    with pytest.raises(KeyReused) as refused:
        await catalog.commit_upload(other, LIMITS, now())
    assert refused.value.key == "Idempotency-Key"
    assert [b.id for b in await catalog.stored_backups(who.system_id)] == [first.id]
    assert (await catalog.org_usage(who.org_id)).used_bytes == 10
    await catalog.abort_upload(other.id)  # rolled back: still an intent the caller forgets


async def test_a_key_older_than_a_day_no_longer_counts(directory: SystemDirectory, catalog: BackupCatalog) -> None:
    who = await new_system(directory, await new_org(directory))
    first = replace(intent(who, 10), idempotency_key="daily")
    await catalog.begin_upload(first)
    await catalog.commit_upload(first, LIMITS, now() - timedelta(hours=24, seconds=1))
    later = replace(intent(who, 12), idempotency_key="daily")
    await catalog.begin_upload(later)
    assert (await catalog.commit_upload(later, LIMITS, now())).outcome is Outcome.STORED


async def test_a_key_in_flight_refuses_a_second_intent_of_the_same_system_only(
    directory: SystemDirectory, catalog: BackupCatalog
) -> None:
    org_id = await new_org(directory)
    who, neighbour = await new_system(directory, org_id), await new_system(directory, org_id)
    first = replace(intent(who, 10), idempotency_key="k")
    await catalog.begin_upload(first)
    with pytest.raises(KeyInFlight):
        await catalog.begin_upload(replace(intent(who, 10), idempotency_key="k"))
    await catalog.begin_upload(replace(intent(neighbour, 10), idempotency_key="k"))
    await catalog.begin_upload(intent(who, 10))
    await catalog.commit_upload(first, LIMITS, now())
    await catalog.begin_upload(replace(intent(who, 10), idempotency_key="k"))  # no longer in flight


async def test_identical_uploads_racing_store_exactly_one(directory: SystemDirectory, catalog: BackupCatalog) -> None:
    who = await new_system(directory, await new_org(directory))
    model = intent(who, 10)
    racers = [same_body(who, model) for _ in range(5)]
    for racer in racers:
        await catalog.begin_upload(racer)
    results = await asyncio.gather(*(catalog.commit_upload(r, LIMITS, now()) for r in racers))
    assert sorted(r.outcome for r in results) == [Outcome.DUPLICATE] * 4 + [Outcome.STORED]
    (kept,) = await catalog.stored_backups(who.system_id)
    assert {r.backup.id for r in results} == {kept.id}
    assert (await catalog.org_usage(who.org_id)).used_bytes == 10
