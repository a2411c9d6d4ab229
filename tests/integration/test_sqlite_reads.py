"""SQLite: authentication reads on connections of their own, beside the one writer (WAL)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.sql import SqlSystemDirectory, make_engine, make_read_engine, upgrade
from domain.credentials import hash_secret
from domain.model import Organization, SystemIdentity


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
