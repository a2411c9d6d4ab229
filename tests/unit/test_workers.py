"""The background-worker runner: a pass at start and one every interval, each under its worker's lease,
a failing pass tried again at the next turn, every worker stopped at shutdown. Time is a FrozenClock."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from adapters.memory.clock import FrozenClock
from app.workers import SoleReplica, Worker, WorkerRunner
from domain.errors import StoreUnavailable
from domain.model import BackupState
from tests.unit.fakes import World, chunks, pgp, upload


class Ticks:
    """A fake `sleep`: moves the clock by the interval asked for; after `turns` sleeps it parks (until
    cancelled) and sets `done`, so a test sees a fixed number of passes."""

    def __init__(self, clock: FrozenClock, turns: int) -> None:
        self.clock = clock
        self.turns = turns
        self.slept: list[float] = []
        self.done = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        if len(self.slept) >= self.turns:
            self.done.set()
            await asyncio.Event().wait()
        self.clock.advance(seconds)
        await asyncio.sleep(0)


async def run_until_done(runner: WorkerRunner, ticks: Ticks) -> None:
    runner.start()
    await asyncio.wait_for(ticks.done.wait(), timeout=5)
    await runner.stop()


async def test_a_worker_runs_a_pass_at_start_and_then_one_every_interval() -> None:
    world = World(windows={})
    seen: list[datetime] = []

    async def note() -> None:
        seen.append(world.clock.now())

    ticks = Ticks(world.clock, turns=3)
    await run_until_done(WorkerRunner([Worker("note", timedelta(minutes=5), note)], sleep=ticks), ticks)
    start = seen[0]
    assert seen == [start, start + timedelta(minutes=5), start + timedelta(minutes=10)]
    assert ticks.slept == [300.0, 300.0, 300.0]


async def test_a_worker_whose_lease_another_replica_holds_lets_its_turn_go() -> None:
    world = World(windows={})
    runs: list[str] = []

    async def work() -> None:
        runs.append("ran")

    runner = WorkerRunner([], leases=world.maintenance)
    worker = Worker("reaper", timedelta(minutes=5), work)
    async with world.maintenance.lease("reaper"):  # the other replica's pass
        assert await runner.run_once(worker) is False
        assert await runner.run_once(Worker("notifier", timedelta(minutes=5), work)) is True  # its own lease
    assert await runner.run_once(worker) is True
    assert runs == ["ran", "ran"]


async def test_a_failing_pass_is_logged_and_tried_again_at_the_next_turn(caplog: pytest.LogCaptureFixture) -> None:
    clock = FrozenClock(datetime.fromisoformat("2026-04-12T02:15:00+00:00"))
    outcomes: list[Exception | None] = [StoreUnavailable("injected"), RuntimeError("a bug"), None]

    async def flaky() -> None:
        failure = outcomes.pop(0)
        if failure is not None:
            raise failure

    ticks = Ticks(clock, turns=3)
    with caplog.at_level(logging.INFO, logger="app.workers"):
        await run_until_done(WorkerRunner([Worker("flaky", timedelta(seconds=1), flaky)], sleep=ticks), ticks)
    assert outcomes == []
    failures = [r.getMessage() for r in caplog.records if "pass failed" in r.getMessage()]
    assert failures == ["flaky pass failed: object store unavailable: injected", "flaky pass failed"]


async def test_stop_ends_every_worker_even_in_the_middle_of_a_pass() -> None:
    started = asyncio.Event()
    cancelled: list[str] = []

    async def long_pass() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append("long")
            raise

    async def quick() -> None:
        pass

    runner = WorkerRunner([Worker("long", timedelta(hours=1), long_pass), Worker("quick", timedelta(hours=1), quick)])
    runner.start()
    await asyncio.wait_for(started.wait(), timeout=5)
    await asyncio.wait_for(runner.stop(), timeout=5)
    assert cancelled == ["long"]
    assert all(task.get_name() != "worker:long" for task in asyncio.all_tasks())


async def test_the_reaper_runs_as_a_worker_on_the_ledgers_lease_and_logs_what_it_did(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = World(windows={})
    assert [w.name for w in world.services.workers] == [
        "reaper",
        "checkpointer",
        "schedule-evaluator",
        "notifier",
        "scrubber",
    ]
    assert world.services.leases is world.maintenance
    who = await world.system()
    backup = (await world.ingest(who, upload(pgp(10)))).backup
    crashed = replace(backup, id="crashed", object_key="k.crashed", state=BackupState.UPLOADING)
    await world.catalog.begin_upload(crashed)
    await world.objects.put("k.crashed", chunks(b"partial"))
    world.clock.advance(3601)
    runner = WorkerRunner(world.services.workers, world.services.leases)
    with caplog.at_level(logging.INFO, logger="app.workers"):
        assert await runner.run_once(world.services.workers[0]) is True
    assert list(world.catalog.rows) == [backup.id]
    assert "reaper: finished 0 deletions and removed 1 stale uploads" in caplog.messages


async def test_without_a_shared_ledger_every_pass_runs_in_this_process() -> None:
    async with SoleReplica().lease("reaper") as first, SoleReplica().lease("reaper") as second:
        assert (first, second) == (True, True)
