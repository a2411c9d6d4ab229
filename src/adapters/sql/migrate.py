"""Bring the schema to the newest Alembic revision from inside a running event loop."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import guarded

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant shared by every replica; the bytes spell "bkcoll", so it is unlikely to collide.
ADVISORY_LOCK_ID = 0x626B636F6C6C


@dataclass(frozen=True, slots=True)
class Migrated:
    """What an upgrade did: the revision found (None: a database without the schema), the one left, and
    the revisions applied in between, oldest first."""

    before: str | None
    after: str | None
    applied: tuple[str, ...]


async def upgrade(engine: AsyncEngine) -> Migrated:
    """Run `alembic upgrade head` on one connection of `engine`, in one transaction.

    Idempotent: an up-to-date schema is left alone. On PostgreSQL a transaction-scoped advisory lock
    makes replicas that start together migrate one after the other; SQLite's BEGIN IMMEDIATE does the
    same there.

    Args:
        engine: The engine whose database to migrate.

    Returns:
        The revision found, the one left, and what was applied in between.

    Raises:
        CatalogUnavailable: The database could not be reached.
    """
    async with guarded(), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": ADVISORY_LOCK_ID})
        return await conn.run_sync(_upgrade)


def _upgrade(connection: Connection) -> Migrated:
    config = Config()
    # Config is a ConfigParser underneath: a `%` in the path would be read as interpolation.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    # env.py migrates on this connection, inside the caller's transaction, instead of opening its own.
    config.attributes["connection"] = connection
    before = _revision(connection)
    command.upgrade(config, "head")
    after = _revision(connection)
    if after == before:
        return Migrated(before, after, ())
    script = ScriptDirectory.from_config(config)
    applied = [revision.revision for revision in script.iterate_revisions(after, before or "base")]
    return Migrated(before, after, tuple(reversed(applied)))


def _revision(connection: Connection) -> str | None:
    """The schema's revision, read from Alembic's table (None: no schema yet)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    found = connection.scalar(text("SELECT version_num FROM alembic_version"))
    return None if found is None else str(found)
