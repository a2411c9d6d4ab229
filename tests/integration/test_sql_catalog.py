"""What only the SQL adapters promise, on SQLite and PostgreSQL. The behaviour every catalog and
directory shares (in memory too) is pinned by tests/integration/contracts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql import SqlBackupCatalog, SqlSystemDirectory, make_engine, upgrade
from adapters.sql.migrate import MIGRATIONS
from adapters.sql.models import Base
from domain.errors import CatalogUnavailable
from domain.model import Limits
from tests.integration.services import migrated_and_empty

LIMITS = Limits(max_upload_size=1000, max_per_system=3, max_size_per_system=1000, max_size_per_org=0)


@pytest.fixture
async def engine(sql_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(sql_url)
    await migrated_and_empty(engine)
    yield engine
    await engine.dispose()


async def test_migrations_are_idempotent_and_safe_to_run_at_once(engine: AsyncEngine) -> None:
    await upgrade(engine)
    await asyncio.gather(upgrade(engine), upgrade(engine), upgrade(engine))
    async with engine.connect() as conn:
        versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    assert versions == [ScriptDirectory.from_config(_alembic()).get_current_head()]


def _alembic(connection: Connection | None = None) -> Config:
    """The migrations' config; on `connection` (as `upgrade` runs them) when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def test_the_migrated_schema_is_the_models_schema(engine: AsyncEngine) -> None:
    def differences(connection: Connection) -> list[object]:
        found: list[object] = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        return found

    async with engine.connect() as conn:
        assert await conn.run_sync(differences) == []


async def test_backups_stored_before_the_uploader_address_was_kept_read_as_none(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/old.db")

    def to_0001(connection: Connection) -> None:
        command.upgrade(_alembic(connection), "0001")

    try:
        async with engine.begin() as conn:
            await conn.run_sync(to_0001)
            await conn.execute(text("INSERT INTO organizations VALUES ('o1', 'acme', NULL, 5, '2026-01-01 00:00:00')"))
            await conn.execute(
                text("INSERT INTO systems VALUES ('s1', 'fw-1', 'o1', 'x', false, '2026-01-01 00:00:00')")
            )
            await conn.execute(
                text(
                    "INSERT INTO backups VALUES ('b1.gpg', 's1', 'o1', 'k', 'b1', '.gpg', 5, 'ab', "
                    "'application/pgp-encrypted', '2026-01-01 00:00:00', 'stored', '2026-01-01 00:00:00')"
                )
            )
        await upgrade(engine)
        (old,) = await SqlBackupCatalog(engine).stored_backups("s1")
    finally:
        await engine.dispose()
    assert (old.id, old.size, old.uploader_ip) == ("b1.gpg", 5, None)


async def test_sqlite_creates_the_directory_of_its_file(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/a/b/c/backups.db")
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    assert (tmp_path / "a/b/c/backups.db").is_file()


async def test_an_unreachable_postgresql_is_catalog_unavailable() -> None:
    engine = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    try:
        with pytest.raises(CatalogUnavailable):
            await SqlBackupCatalog(engine).ping()
        with pytest.raises(CatalogUnavailable):
            await SqlSystemDirectory(engine).authenticate("fw-1", "secret")
        with pytest.raises(CatalogUnavailable):
            await upgrade(engine)
    finally:
        await engine.dispose()
