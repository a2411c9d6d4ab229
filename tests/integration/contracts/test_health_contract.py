"""SystemHealth contract: the state rule's facts, schedules and refusals read alike on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.memory.clock import FrozenClock
from domain.errors import NotFound
from domain.events import EventType, NewEvent
from domain.health import LastError, Schedule, ScheduleOverride, SystemState
from domain.model import Limits, SystemIdentity
from domain.ports import BackupCatalog, SystemDirectory, SystemHealth
from domain.systems import SystemAdmin
from tests.integration.contracts.builders import intent, new_org, new_system

LIMITS = Limits(max_upload_size=10_000, max_per_system=10, max_size_per_system=100_000, max_size_per_org=0)
DAY = Schedule(every=timedelta(hours=24), grace=timedelta(hours=12))


async def _stored(catalog: BackupCatalog, who: SystemIdentity, size: int, at: datetime) -> None:
    started = intent(who, size, uploaded_at=at)
    await catalog.begin_upload(started)
    await catalog.commit_upload(started, LIMITS, at)


async def test_facts_count_the_stored_backups_per_system_and_narrow_to_an_org_or_a_key(
    directory: SystemDirectory, catalog: BackupCatalog, health: SystemHealth
) -> None:
    acme, beta = await new_org(directory), await new_org(directory)
    a = await new_system(directory, acme, "a-fw")
    idle = await new_system(directory, acme, "B-fw")
    b = await new_system(directory, beta, "c-fw")
    t0 = datetime(2026, 4, 12, 2, 15, 7, 250_000, tzinfo=UTC)
    await _stored(catalog, a, 100, t0)
    await _stored(catalog, a, 250, t0 + timedelta(hours=3))
    await _stored(catalog, b, 7, t0 - timedelta(days=1))
    # An intent still uploading counts for nothing.
    await catalog.begin_upload(intent(idle, 10, uploaded_at=t0))
    fleet = await health.facts()
    assert [f.identity.system_key for f in fleet] == ["B-fw", "a-fw", "c-fw"]  # by character, any collation
    by_key = {f.identity.system_key: f for f in fleet}
    assert (by_key["a-fw"].backups, by_key["a-fw"].total_size, by_key["a-fw"].last_backup_at) == (
        2,
        350,
        t0 + timedelta(hours=3),
    )
    assert (by_key["B-fw"].backups, by_key["B-fw"].total_size, by_key["B-fw"].last_backup_at) == (0, 0, None)
    assert by_key["a-fw"].identity == a
    assert [f.identity.system_key for f in await health.facts(acme)] == ["B-fw", "a-fw"]
    (only,) = await health.facts(system_key="c-fw")
    assert (only.identity, only.backups, only.last_backup_at) == (b, 1, t0 - timedelta(days=1))
    assert await health.facts(system_key="nope") == []
    assert await health.facts("no-such-org") == []


async def test_created_at_suspension_refusals_and_schedules_read_back_exactly(
    directory: SystemDirectory, health: SystemHealth
) -> None:
    org = await new_org(directory)
    who = await new_system(directory, org, "fw-1")
    created = datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC)
    later = SystemIdentity(system_id="s-2", system_key="fw-2", org_id=org)
    await directory.create_system(later, "hash", created)
    await directory.set_suspended("fw-1", True)
    error = LastError(status=413, key="size", message="over the per-upload cap", at=created + timedelta(hours=1))
    await health.record_refusal(later.system_id, error)
    await health.record_refusal("no-such-system", error)  # a no-op
    await health.set_system_schedule("fw-2", ScheduleOverride(every=timedelta(hours=1)))
    await health.set_org_schedule(org, ScheduleOverride(every=timedelta(hours=6), grace=timedelta(0)))
    first, second = await health.facts(org)
    assert (first.identity, first.suspended, first.last_error) == (who, True, None)
    assert (second.created_at, second.suspended, second.last_error) == (created, False, error)
    assert second.own == ScheduleOverride(every=timedelta(hours=1), grace=None)
    assert second.org == first.org == ScheduleOverride(every=timedelta(hours=6), grace=timedelta(0))
    assert second.schedule(DAY) == Schedule(every=timedelta(hours=1), grace=timedelta(0))
    assert first.schedule(DAY) == Schedule(every=timedelta(hours=6), grace=timedelta(0))
    newer = LastError(status=400, key="body", message="not an OpenPGP message", at=created + timedelta(hours=2))
    await health.record_refusal(later.system_id, newer)
    await health.set_system_schedule("fw-2", ScheduleOverride())
    (again,) = await health.facts(system_key="fw-2")
    assert (again.last_error, again.own) == (newer, ScheduleOverride())
    with pytest.raises(NotFound):
        await health.set_system_schedule("nope", ScheduleOverride())
    with pytest.raises(NotFound):
        await health.set_org_schedule("nope", ScheduleOverride())


async def test_the_metric_the_lists_and_stale_apply_one_state_rule(
    directory: SystemDirectory, catalog: BackupCatalog, health: SystemHealth
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    org = await new_org(directory)
    born = now - timedelta(days=30)

    async def system(key: str) -> SystemIdentity:
        who = SystemIdentity(system_id=f"id-{key}-{org}", system_key=key, org_id=org)
        await directory.create_system(who, "hash", born)
        return who

    up, late, down, failing, paused = [await system(k) for k in ("up", "late", "down", "failing", "paused")]
    await system("never")
    fresh = SystemIdentity(system_id=f"id-new-{org}", system_key="new", org_id=org)
    await directory.create_system(fresh, "hash", now - timedelta(hours=1))
    await _stored(catalog, up, 10, now - timedelta(hours=2))
    await _stored(catalog, late, 10, now - timedelta(hours=30))
    await _stored(catalog, down, 10, now - timedelta(hours=37))
    await _stored(catalog, failing, 10, now - timedelta(hours=3))
    await health.record_refusal(failing.system_id, LastError(400, "body", "not encrypted", now - timedelta(hours=1)))
    await _stored(catalog, paused, 10, now - timedelta(days=9))
    await directory.set_suspended("paused", True)
    admin = SystemAdmin(directory=directory, health=health, clock=FrozenClock(now), limits=LIMITS, schedule=DAY)
    states = await admin.states()
    assert states == {
        "down": SystemState.DOWN,
        "failing": SystemState.FAILING,
        "late": SystemState.LATE,
        "never": SystemState.DOWN,
        "new": SystemState.NEW,
        "paused": SystemState.PAUSED,
        "up": SystemState.UP,
    }
    counts = await admin.count_states()
    assert counts[SystemState.DOWN] == 2
    assert sum(counts.values()) == 7
    assert [s.system_key for s in await admin.stale()] == ["never", "down"]
    assert {s.system_key: s.state for s in await admin.list_systems(org)} == states
    assert [s.system_key for s in await admin.stale("36h")] == ["never", "new", "paused", "down"]
    # A stored backup newer than the refusal: back to up.
    await _stored(catalog, failing, 10, now)
    assert (await admin.show("failing")).state is SystemState.UP


async def test_announcements_and_refusal_counts_read_back_alike(
    directory: SystemDirectory, health: SystemHealth, ledger: Any
) -> None:
    org = await new_org(directory)
    one, two = await new_system(directory, org, "fw-1"), await new_system(directory, org, "fw-2")
    t0 = datetime(2026, 4, 12, 9, 0, tzinfo=UTC)
    alert = NewEvent(at=t0, type=EventType.SYSTEM_DOWN, org_id=org, system_key="fw-1", detail={"state": "down"})
    before = len(await ledger.events.events_after(-1, 1000))
    await health.announce([(one.system_id, "down"), (two.system_id, "up")], [alert])
    first, second = await health.facts(org)
    assert (first.notified, second.notified) == ("down", "up")
    (logged,) = (await ledger.events.events_after(-1, 1000))[before:]
    assert (logged.type, logged.system_key, dict(logged.detail)) == (EventType.SYSTEM_DOWN, "fw-1", {"state": "down"})
    for minutes in (0, 5, 10):
        error = LastError(400, "body", "not encrypted", t0 + timedelta(minutes=minutes))
        await health.record_refusal(one.system_id, error)
    await health.record_refusal(two.system_id, LastError(413, "size", "too large", t0))
    assert await health.refusals_since(t0 + timedelta(minutes=5)) == {one.system_id: 2}
    assert await health.refusals_since(t0) == {one.system_id: 3, two.system_id: 1}
