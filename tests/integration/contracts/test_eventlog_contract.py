"""The event log contract: in memory, on SQLite and on PostgreSQL. Entries are written by the catalog and the
directory in the transaction of their change, with gapless seqs in commit order, and never a secret."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from adapters.shapes import event_json
from domain.credentials import hash_secret
from domain.errors import TooLarge
from domain.events import Actor, Event, EventQuery, EventType, Via
from domain.ledger import Outcome
from domain.model import Limits
from domain.ports import BackupCatalog, EventLog, SystemDirectory
from tests.integration.contracts.builders import intent, new_org, new_system, now

LIMITS = Limits(max_upload_size=1000, max_per_system=2, max_size_per_system=1000, max_size_per_org=0)


async def every(events: EventLog) -> list[Event]:
    return await events.events_after(-1, 10_000)


async def test_seqs_count_from_zero_and_each_change_is_logged_once(
    directory: SystemDirectory, catalog: BackupCatalog, events: EventLog
) -> None:
    org_id = await new_org(directory)
    who = await new_system(directory, org_id, key="fw-1")
    started = intent(who, 10)
    await catalog.begin_upload(started)
    await catalog.commit_upload(started, LIMITS, now())
    log = await every(events)
    assert [e.seq for e in log] == [0, 1, 2]
    assert [e.type for e in log] == [EventType.ORG_CREATED, EventType.SYSTEM_CREATED, EventType.BACKUP_STORED]
    stored = log[2]
    assert (stored.org_id, stored.system_key, stored.backup_id, stored.actor) == (
        org_id,
        "fw-1",
        started.id,
        Actor.APPLIANCE,
    )
    assert stored.detail == {"sha256": started.sha256, "size": 10}


async def test_an_upload_and_the_backups_it_pruned_are_logged_in_one_commit(
    directory: SystemDirectory, catalog: BackupCatalog, events: EventLog
) -> None:
    who = await new_system(directory, await new_org(directory))
    ids = []
    for _ in range(3):
        started = intent(who, 10)
        ids.append(started.id)
        await catalog.begin_upload(started)
        await catalog.commit_upload(started, LIMITS, now())
    tail = (await every(events))[-2:]
    assert [(e.type, e.backup_id) for e in tail] == [
        (EventType.BACKUP_STORED, ids[2]),
        (EventType.BACKUP_PRUNED, ids[0]),
    ]
    assert tail[1].actor is Actor.SERVICE
    assert tail[1].detail["rule"] in {"last", "size_cap"}


async def test_a_duplicate_logs_the_stored_backup_that_answered_and_nothing_else(
    directory: SystemDirectory, catalog: BackupCatalog, events: EventLog
) -> None:
    who = await new_system(directory, await new_org(directory))
    first = intent(who, 10)
    await catalog.begin_upload(first)
    await catalog.commit_upload(first, LIMITS, now())
    again = replace(intent(who, 10), sha256=first.sha256)
    await catalog.begin_upload(again)
    assert (await catalog.commit_upload(again, LIMITS, now())).outcome is Outcome.DUPLICATE
    last = (await every(events))[-1]
    assert (last.type, last.backup_id) == (EventType.BACKUP_DUPLICATE, first.id)


async def test_a_refused_commit_logs_nothing(
    directory: SystemDirectory, catalog: BackupCatalog, events: EventLog
) -> None:
    who = await new_system(directory, await new_org(directory, quota=5))
    before = await every(events)
    started = intent(who, 10)
    await catalog.begin_upload(started)
    with pytest.raises(TooLarge):
        await catalog.commit_upload(started, LIMITS, now())
    assert await every(events) == before


async def test_a_delete_names_its_actor_and_an_operators_surface(
    directory: SystemDirectory, catalog: BackupCatalog, events: EventLog
) -> None:
    who = await new_system(directory, await new_org(directory))
    kept = []
    for _ in range(2):
        started = intent(who, 10)
        await catalog.begin_upload(started)
        kept.append((await catalog.commit_upload(started, LIMITS, now())).backup)
    await catalog.begin_deletion(who.system_id, kept[0].id, Actor.APPLIANCE)
    await catalog.begin_deletion(who.system_id, kept[1].id, Actor.OPERATOR, Via.CLI)
    assert await catalog.begin_deletion(who.system_id, kept[1].id, Actor.OPERATOR, Via.CLI) is None
    appliance, operator = (await every(events))[-2:]
    assert (appliance.type, appliance.actor, dict(appliance.detail)) == (EventType.BACKUP_DELETED, Actor.APPLIANCE, {})
    assert (operator.backup_id, operator.actor, dict(operator.detail)) == (kept[1].id, Actor.OPERATOR, {"via": "cli"})


async def test_the_directorys_changes_are_logged_and_no_secret_ever(
    directory: SystemDirectory, catalog: BackupCatalog, events: EventLog
) -> None:
    org_id = await new_org(directory)
    who = await new_system(directory, org_id, key="fw-2")
    await directory.set_suspended("fw-2", True)
    await directory.set_suspended("fw-2", False)
    rotated = hash_secret("a new secret")
    await directory.set_secret("fw-2", rotated)
    await directory.set_org_quota(org_id, 500)
    started = intent(who, 10)
    await catalog.begin_upload(started)
    await catalog.commit_upload(started, LIMITS, now())
    await catalog.begin_system_deletion(who.system_id, Via.ADMIN)
    await catalog.finish_deletion([started.id])
    await directory.delete_system("fw-2")
    log = await every(events)
    assert [e.type for e in log] == [
        EventType.ORG_CREATED,
        EventType.SYSTEM_CREATED,
        EventType.SYSTEM_SUSPENDED,
        EventType.SYSTEM_RESUMED,
        EventType.SYSTEM_SECRET_ROTATED,
        EventType.ORG_QUOTA_CHANGED,
        EventType.BACKUP_STORED,
        EventType.BACKUP_DELETED,
        EventType.SYSTEM_DESTROYED,
    ]
    assert log[5].detail == {
        "quota_bytes": 500,
        "keep_last": None,
        "keep_daily": None,
        "keep_weekly": None,
        "keep_monthly": None,
    }
    assert log[7].detail == {"via": "admin"}
    assert all(e.system_key == "fw-2" for e in log[1:] if e.type is not EventType.ORG_QUOTA_CHANGED)
    printed = json.dumps([event_json(e) for e in log])
    assert rotated not in printed
    assert rotated.split("$")[-1] not in printed


async def test_racing_commits_of_many_orgs_get_gapless_seqs_in_commit_order(
    directory: SystemDirectory, catalog: BackupCatalog, events: EventLog
) -> None:
    systems = [await new_system(directory, await new_org(directory)) for _ in range(6)]
    start = len(await every(events))
    started = [intent(who, 10) for who in systems for _ in range(3)]
    for backup in started:
        await catalog.begin_upload(backup)
    await asyncio.gather(*(catalog.commit_upload(b, LIMITS, now()) for b in started))
    log = await every(events)
    assert [e.seq for e in log] == list(range(len(log)))
    assert sorted(e.backup_id or "" for e in log[start:] if e.type is EventType.BACKUP_STORED) == sorted(
        b.id for b in started
    )


async def test_readers_page_forward_and_filter(
    directory: SystemDirectory, catalog: BackupCatalog, events: EventLog
) -> None:
    org_id = await new_org(directory)
    one = await new_system(directory, org_id, key="fw-a")
    await new_system(directory, org_id, key="fw-b")
    started = intent(one, 10)
    await catalog.begin_upload(started)
    await catalog.commit_upload(started, LIMITS, now())
    assert [e.seq for e in await events.events_after(0, 2)] == [1, 2]
    assert await events.events_after(3, 10) == []
    mine = await events.search(EventQuery(system_key="fw-a"))
    assert [e.type for e in mine] == [EventType.SYSTEM_CREATED, EventType.BACKUP_STORED]
    stored = await events.search(EventQuery(type=EventType.BACKUP_STORED))
    assert [e.backup_id for e in stored] == [started.id]
    assert await events.search(EventQuery(since=mine[-1].at, system_key="fw-a")) == [mine[-1]]
    assert await events.search(EventQuery(after=0, limit=1)) == [(await every(events))[1]]
