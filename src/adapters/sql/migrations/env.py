"""Alembic environment: migrates on the connection that `adapters.sql.migrate.upgrade` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from adapters.sql.models import Base


def run_migrations() -> None:
    """Apply the pending revisions on the connection passed in `config.attributes`.

    Raises:
        RuntimeError: Alembic was run without a connection (e.g. the bare `alembic` command), which
            would need an event loop of its own; use `backup-collect migrate` instead.
    """
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("run migrations through adapters.sql.migrate.upgrade (backup-collect migrate)")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables in later revisions.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    # The caller's transaction is already open, so Alembic joins it rather than committing its own.
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
