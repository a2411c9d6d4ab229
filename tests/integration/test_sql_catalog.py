"""What only the SQL adapters promise, on SQLite and PostgreSQL. The behaviour every catalog and
directory shares (in memory too) is pinned by tests/integration/contracts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql import SqlBackupCatalog, SqlSystemDirectory, make_engine, upgrade
from adapters.sql.models import Base
from domain.errors import CatalogUnavailable
from domain.model import Limits

LIMITS = Limits(max_upload_size=1000, max_per_system=3, max_size_per_system=1000, max_size_per_org=0)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    # Sync, so that the session-scoped PostgreSQL fixture can run its own event loop.
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/nested/dir/backups.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await upgrade(engine)
    async with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())
    yield engine
    await engine.dispose()


async def test_migrations_are_idempotent_and_safe_to_run_at_once(engine: AsyncEngine) -> None:
    await upgrade(engine)
    await asyncio.gather(upgrade(engine), upgrade(engine), upgrade(engine))
    async with engine.connect() as conn:
        versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    assert versions == ["0001"]


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
