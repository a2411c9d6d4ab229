"""SQLite: authentication reads on connections of their own, beside the one writer (WAL); the upload's
write transactions in one hop each to the writer thread."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql import SqlBackupCatalog, SqlSystemDirectory, make_engine, make_read_engine, upgrade
from adapters.sql.writer import writer_of
from domain.credentials import hash_secret
from domain.errors import CatalogUnavailable
from domain.ledger import Committed
from domain.model import BackupState, Limits, Organization, SystemIdentity
from tests.integration.contracts.builders import intent, new_org, new_system, now

LIMITS = Limits(max_upload_size=1000, max_per_system=3, max_size_per_system=1000, max_size_per_org=0)


async def test_an_upload_authenticates_while_another_holds_the_write_transaction(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/backups.db")
    reads = make_read_engine(engine)
    try:
        await upgrade(engine)
        directory = SqlSystemDirectory(engine, reads=reads)
        await directory.create_org(Organization(id="org-1", name="Org", quota_bytes=None))
        await directory.create_system(SystemIdentity("sys-1", "fw-1", "org-1"), hash_secret("s3cret"))
        async with engine.begin() as writer:  # BEGIN IMMEDIATE: the write lock, as a commit holds it
            await writer.execute(text("UPDATE organizations SET used_bytes = 7 WHERE id = 'org-1'"))
            standing = await asyncio.wait_for(directory.authenticate_upload("fw-1", "s3cret"), timeout=5)
            assert standing is not None
            assert standing.identity.system_key == "fw-1"
            assert standing.usage.used_bytes == 0  # the last commit, not the open transaction's write
        after = await directory.authenticate_upload("fw-1", "s3cret")
        assert after is not None
        assert after.usage.used_bytes == 7
    finally:
        if reads is not engine:
            await reads.dispose()
        await engine.dispose()


async def test_the_read_engine_cannot_write(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/backups.db")
    reads = make_read_engine(engine)
    try:
        await upgrade(engine)
        assert reads is not engine
        async with reads.connect() as connection:
            with pytest.raises(Exception, match="readonly"):
                await connection.execute(text("DELETE FROM organizations"))
    finally:
        await reads.dispose()
        await engine.dispose()


def test_other_databases_read_on_the_engine_itself(tmp_path: Path) -> None:
    # A URI filename may name an in-memory database, which a second engine would not share.
    memory = make_engine(f"sqlite+aiosqlite:///file:{tmp_path}/reads.db?uri=true")
    postgres = make_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    assert make_read_engine(memory) is memory
    assert make_read_engine(postgres) is postgres


async def test_an_upload_s_write_transactions_are_one_hop_each_to_the_writer_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/backups.db")
    try:
        await upgrade(engine)
        directory, catalog = SqlSystemDirectory(engine), SqlBackupCatalog(engine)
        who = await new_system(directory, await new_org(directory), "fw-1")
        threads: list[str] = []

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        @event.listens_for(writer_of_engine(engine), "before_cursor_execute")
        def _seen(*_args: object) -> None:
            threads.append(threading.current_thread().name)

        hops: list[object] = []
        real: Any = aiosqlite.Connection._execute

        async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
            hops.append(fn)
            return await real(self, fn, *args, **kwargs)

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        backup = intent(who, 10)
        await catalog.begin_upload(backup)
        committed = await catalog.commit_upload(replace(backup, sha256="ab" * 32), LIMITS, now())
        await catalog.finish_deletion([backup.id])
        monkeypatch.undo()
        assert committed.backup.state is BackupState.STORED
        assert hops == []  # nothing of the upload's writes went through aiosqlite's per-call hops
        assert threads
        assert {name.split("_")[0] for name in threads} == {"sqlite-writer"}
    finally:
        await engine.dispose()
    assert not [t for t in threading.enumerate() if t.name.startswith("sqlite-writer")]  # closed with the engine


def writer_of_engine(engine: AsyncEngine) -> Engine:
    writer = writer_of(engine)
    assert writer is not None
    return writer.engine


async def test_concurrent_commits_share_fsyncs_and_a_refusal_rolls_back_only_its_own(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/backups.db")
    try:
        await upgrade(engine)
        directory, catalog = SqlSystemDirectory(engine), SqlBackupCatalog(engine)
        org = await new_org(directory)
        systems = [await new_system(directory, org, f"fw-{n}") for n in range(12)]
        intents = [intent(who, 10 + n) for n, who in enumerate(systems)]
        await asyncio.gather(*(catalog.begin_upload(backup) for backup in intents))
        commits: list[str] = []
        event.listen(writer_of_engine(engine), "commit", lambda _connection: commits.append("commit"))
        gone = replace(intents[5], id="never-begun")  # no intent: its commit fails, alone
        results = await asyncio.gather(
            *(
                catalog.commit_upload(replace(b if n != 5 else gone, sha256=f"{n:064x}"), LIMITS, now())
                for n, b in enumerate(intents)
            ),
            return_exceptions=True,
        )
        assert isinstance(results[5], CatalogUnavailable)
        assert [r.backup.id for n, r in enumerate(results) if n != 5 and isinstance(r, Committed)] == [
            b.id for n, b in enumerate(intents) if n != 5
        ]
        assert len(commits) < len(intents) - 1  # groups: fewer COMMITs (fsyncs) than the 11 commits stored
        stored = {b.id for who in systems for b in await catalog.stored_backups(who.system_id)}
        assert stored == {b.id for n, b in enumerate(intents) if n != 5}
    finally:
        await engine.dispose()
