"""Scrubbing in process: each stored object re-read under the bandwidth budget, least recently verified first;
a mismatch or a missing object is recorded, logged to the event log, counted and marked, never removed."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from domain.events import EventType
from domain.scrub import Scrubber
from tests.unit.fakes import World, chunks, pgp, upload


class Sleeps:
    def __init__(self) -> None:
        self.total = 0.0

    async def __call__(self, seconds: float) -> None:
        self.total += seconds


async def three_backups(world: World) -> list[str]:
    who = await world.system()
    return [(await world.ingest(who, upload(pgp(500)))).backup.id for _ in range(3)]


def scrubber(world: World, rate: int = 10**9, sleep: Sleeps | None = None) -> Scrubber:
    assert world.services.scrubber is not None
    return replace(world.services.scrubber, rate=rate, sleep=sleep or Sleeps())


async def test_a_corrupt_and_a_missing_object_are_found_recorded_counted_and_kept() -> None:
    world = World(windows={})
    ok, corrupt, missing = await three_backups(world)
    rows = world.catalog.tables.backups
    await world.objects.put(rows[corrupt].object_key, chunks(b"\x85" + b"x" * 499))
    await world.objects.delete(rows[missing].object_key)
    done = await scrubber(world).everything()
    assert done.verified == 3
    assert sorted((f.backup.id, f.result) for f in done.failures) == sorted(
        [(corrupt, "mismatch"), (missing, "missing")]
    )
    assert {i: rows[i].verify_state for i in (ok, corrupt, missing)} == {
        ok: "ok",
        corrupt: "mismatch",
        missing: "missing",
    }
    assert all(rows[i].verified_at == world.clock.now() for i in (ok, corrupt, missing))
    verified = [e for e in world.catalog.tables.events if e.type is EventType.BACKUP_VERIFIED]
    assert sorted((e.backup_id, e.detail["result"]) for e in verified) == sorted(
        [(ok, "ok"), (corrupt, "mismatch"), (missing, "missing")]
    )
    assert "backup_collect_verify_failures_total 2.0" in world.services.metrics.render().decode()
    assert len(await world.catalog.stored_backups(rows[ok].system_id)) == 3  # nothing removed


async def test_the_least_recently_verified_go_first_and_only_once_a_period() -> None:
    world = World(windows={})
    ids = await three_backups(world)
    scrub = scrubber(world)
    assert (await scrub()).verified == 3
    assert (await scrub()).verified == 0  # all verified within BACKUP_VERIFY_EVERY
    world.clock.advance(timedelta(days=31).total_seconds())
    rows = world.catalog.tables.backups
    rows[ids[2]] = replace(rows[ids[2]], verified_at=world.clock.now() - timedelta(days=40))
    order = await world.maintenance.due_for_verification(world.clock.now() - timedelta(days=30), 10)
    assert [b.id for b in order] == [ids[2], ids[0], ids[1]]


async def test_the_bandwidth_budget_is_respected() -> None:
    world = World(windows={})
    await three_backups(world)
    sleeps = Sleeps()
    done = await scrubber(world, rate=1000, sleep=sleeps).everything()
    assert done.bytes_read == 1500
    # 1500 bytes at 1000 B/s take at least 1.5 s: what was not spent reading was slept.
    assert sleeps.total >= 1.5 - 0.1


async def test_scrubbing_is_off_at_zero_and_the_worker_sets_the_unverified_gauge() -> None:
    world = World(windows={})
    await three_backups(world)
    assert (await replace(scrubber(world), every=timedelta(0))()).verified == 0
    worker = next(w for w in world.services.workers if w.name == "scrubber")
    await worker.run()
    assert "backup_collect_unverified_backups 0.0" in world.services.metrics.render().decode()


async def test_the_console_marks_a_backup_that_failed_verification() -> None:
    from tests.unit.test_console_http import TOKEN, sign_in

    world = World(windows={}, env={"BACKUP_ADMIN_TOKEN": TOKEN})
    who = await world.system()
    backup = (await world.ingest(who, upload(pgp(500)))).backup
    await world.objects.delete(backup.object_key)
    await scrubber(world).everything()
    with world.client() as http:
        sign_in(http)
        page = http.get(f"/console/systems/{who.system_key}").text
    assert 'verify-failed">missing' in page
