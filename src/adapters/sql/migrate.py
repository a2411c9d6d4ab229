"""Bring the schema to the newest Alembic revision from inside a running event loop."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import guarded

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant shared by every replica; the bytes spell "bkcoll", so it is unlikely to collide.
ADVISORY_LOCK_ID = 0x626B636F6C6C


async def upgrade(engine: AsyncEngine) -> None:
    """Run `alembic upgrade head` on one connection of `engine`, in one transaction.

    Idempotent: an up-to-date schema is left alone. On PostgreSQL a transaction-scoped advisory lock
    makes replicas that start together migrate one after the other; SQLite's BEGIN IMMEDIATE does the
    same there.

    Args:
        engine: The engine whose database to migrate.

    Raises:
        CatalogUnavailable: The database could not be reached.
    """
    async with guarded(), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": ADVISORY_LOCK_ID})
        await conn.run_sync(_upgrade)


def _upgrade(connection: Connection) -> None:
    config = Config()
    # Config is a ConfigParser underneath: a `%` in the path would be read as interpolation.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    # env.py migrates on this connection, inside the caller's transaction, instead of opening its own.
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
