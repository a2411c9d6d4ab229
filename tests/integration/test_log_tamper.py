"""`log verify` against rows edited behind the service's back, on SQLite and PostgreSQL: an entry changed,
removed, inserted or swapped is named by its seq; so is a truncated tail; an altered checkpoint fails its
signature. And the checkpointer goes on from its stored right edge."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.clock import FrozenClock
from adapters.runtime.logkey import Ed25519Signer
from adapters.sql import SqlSystemDirectory, make_engine
from adapters.sql.checkpoints import SqlCheckpointStore
from adapters.sql.events import SqlEventLog
from domain.checkpoints import Checkpointer, LogAudit
from tests.independent import mth, open_signed_note, parse_checkpoint
from tests.integration.contracts.builders import new_org, new_system, now
from tests.integration.services import migrated_and_empty

ENTRIES = 7  # org.created and six system.created


@dataclass
class Log:
    engine: AsyncEngine
    checkpointer: Checkpointer
    audit: LogAudit
    vkey: str

    async def sql(self, *statements: str) -> None:
        async with self.engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))


@pytest.fixture
async def log(sql_url: str) -> AsyncIterator[Log]:
    engine = make_engine(sql_url)
    try:
        await migrated_and_empty(engine)
        directory = SqlSystemDirectory(engine)
        org_id = await new_org(directory)
        for i in range(ENTRIES - 1):
            await new_system(directory, org_id, key=f"fw-{i}")
        signer = Ed25519Signer.generate("backup-collect.test/tamper")
        events, store = SqlEventLog(engine), SqlCheckpointStore(engine)
        clock = FrozenClock(now())
        checkpointer = Checkpointer(events=events, store=store, signer=signer, origin="tamper.test", clock=clock)
        audit = LogAudit(events=events, store=store, verifier=signer.verifier())
        made = await checkpointer()
        assert made is not None
        assert made.tree_size == ENTRIES
        yield Log(engine, checkpointer, audit, signer.verifier().text())
    finally:
        await engine.dispose()


async def test_an_untouched_log_verifies_and_its_checkpoint_passes_an_independent_check(log: Log) -> None:
    report = await log.audit()
    assert (report.ok, report.entries, report.checkpoints) == (True, ENTRIES, 1)
    async with log.engine.connect() as connection:
        note = (await connection.execute(text("SELECT note FROM log_checkpoints"))).scalar_one()
        rows = (await connection.execute(text("SELECT * FROM event_log ORDER BY seq"))).mappings().all()
    origin, size, root = parse_checkpoint(open_signed_note(note, log.vkey))
    leaves = [
        json.dumps(
            {
                **{k: r[k] for k in ("actor", "at", "backup_id", "org_id", "seq", "system_key", "type")},
                "detail": json.loads(r["detail"]),
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        for r in rows
    ]
    assert (origin, size, root) == ("tamper.test", ENTRIES, mth(leaves))


async def test_a_changed_entry_is_named(log: Log) -> None:
    await log.sql("UPDATE event_log SET system_key = 'fw-evil' WHERE seq = 3")
    report = await log.audit()
    assert not report.ok
    assert report.first_bad_seq == 3


async def test_a_removed_entry_is_named(log: Log) -> None:
    await log.sql("DELETE FROM event_log WHERE seq = 2")
    assert (await log.audit()).first_bad_seq == 2


async def test_a_removed_tail_is_named(log: Log) -> None:
    await log.sql("DELETE FROM event_log WHERE seq >= 5")
    assert (await log.audit()).first_bad_seq == 5


async def test_an_inserted_entry_is_named(log: Log) -> None:
    await log.sql(
        "UPDATE event_log SET seq = seq + 1000 WHERE seq >= 4",
        "UPDATE event_log SET seq = seq - 999 WHERE seq >= 1000",
        "INSERT INTO event_log (seq, at, type, org_id, system_key, backup_id, actor, detail) "
        "SELECT 4, at, 'system.suspended', org_id, system_key, backup_id, actor, detail FROM event_log WHERE seq = 3",
    )
    assert (await log.audit()).first_bad_seq == 4


async def test_swapped_entries_are_named_by_the_first(log: Log) -> None:
    await log.sql(
        "UPDATE event_log SET seq = -1 WHERE seq = 1",
        "UPDATE event_log SET seq = 1 WHERE seq = 5",
        "UPDATE event_log SET seq = 5 WHERE seq = -1",
    )
    report = await log.audit()
    assert report.first_bad_seq == 1
    assert {p.seq for p in report.problems} == {1, 5}


async def test_an_altered_checkpoint_fails_its_signature(log: Log) -> None:
    await log.sql("UPDATE log_checkpoints SET note = replace(note, 'tamper.test', 'tamper.evil')")
    report = await log.audit()
    assert not report.ok
    assert "signature" in report.problems[0].problem


async def test_the_checkpointer_goes_on_from_its_stored_edge(log: Log) -> None:
    directory = SqlSystemDirectory(log.engine)
    await directory.set_suspended("fw-0", True)
    made = await log.checkpointer()
    assert made is not None
    assert made.tree_size == ENTRIES + 1
    assert await log.checkpointer() is None
    report = await log.audit()
    assert (report.ok, report.entries, report.checkpoints) == (True, ENTRIES + 1, 2)
