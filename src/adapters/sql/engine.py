"""Engine construction per backend, and the translation of connection failures into domain errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg.exceptions
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from domain.errors import CatalogUnavailable

# Long enough to ride out another writer's commit, short enough that a wedged database surfaces as 503.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Fail fast when PostgreSQL is unreachable, so readiness checks and uploads answer 503 promptly.
PG_CONNECT_TIMEOUT_S = 10
# A statement that has not answered in this long (a database that stalls, a lock held elsewhere) fails
# as an unreachable database does (503). `?command_timeout=SECONDS` in the URL overrides it.
PG_COMMAND_TIMEOUT_S = 10
PG_POOL_SIZE = 20
# SQLite readers beside the one writer (WAL): an upload's authentication never queues behind a commit.
SQLITE_READERS = 4

# Raised raw by asyncpg when SQLAlchemy has not wrapped them (e.g. during connection setup).
_ASYNCPG_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
)


def make_engine(url: str) -> AsyncEngine:
    """An async engine for `url`, tuned for its backend.

    Args:
        url: A SQLAlchemy URL, `sqlite+aiosqlite:///path` or `postgresql+asyncpg://...`.

    Returns:
        The engine. On SQLite the database's parent directory exists afterwards.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        return create_async_engine(
            parsed,
            # An upload holds a connection only for its statements (one read, the intent, the commit):
            # 20 (+20 in bursts) per replica keep 64 concurrent uploads per replica from queueing here.
            pool_size=PG_POOL_SIZE,
            max_overflow=PG_POOL_SIZE,
            # No ping before each checkout: it was one more round trip per transaction. A connection
            # that died with a database restart fails its statement (503), SQLAlchemy then discards
            # the whole pool, and the next request connects afresh; idle ones are recycled before
            # proxies reap them.
            pool_pre_ping=False,
            pool_recycle=1800,
            connect_args={"timeout": PG_CONNECT_TIMEOUT_S}
            | ({} if "command_timeout" in parsed.query else {"command_timeout": PG_COMMAND_TIMEOUT_S}),
        )
    return create_async_engine(parsed, pool_pre_ping=True)


def _sqlite_engine(url: URL) -> AsyncEngine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # One connection per process: every SQLite transaction takes the write lock (BEGIN IMMEDIATE), so
    # more connections only queue in SQLite's sleeping busy handler; the pool queues them fairly instead.
    engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)

    tune_sqlite(engine.sync_engine)
    return engine


def tune_sqlite(engine: Engine) -> None:
    """Every connection of `engine` waits for the write lock, keeps foreign keys, WAL and
    `synchronous=FULL`, and every transaction begins IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take BEGIN away from the sqlite3 driver, which would otherwise defer it to the first write.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            # WAL lets readers proceed during a commit; FULL syncs the WAL at every commit, so a committed
            # upload survives power loss (NORMAL, WAL's usual pairing, may lose the last commits). Set
            # explicitly: the default is a compile-time choice of the SQLite library.
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so read-then-write commits serialise instead of
        # failing with SQLITE_BUSY when two of them try to upgrade their read locks at once.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_read_engine(engine: AsyncEngine) -> AsyncEngine:
    """An engine for the hot path's reads: on a SQLite database file, connections of their own that never
    take the write lock (WAL lets them read beside the writer's transaction and its fsync); on any other
    database, `engine` itself. The caller disposes what it got when it is not `engine`.

    Args:
        engine: The engine `make_engine` made.
    """
    url = engine.url
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return engine
    reads = create_async_engine(
        url, pool_size=SQLITE_READERS, max_overflow=0, pool_timeout=SQLITE_BUSY_TIMEOUT_MS / 1000
    )

    @event.listens_for(reads.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Autocommit: each SELECT is its own read transaction on the latest commit; no BEGIN IMMEDIATE,
        # no write lock. query_only makes a write through this engine an error instead of a lock wait.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA query_only = ON")
        finally:
            cursor.close()

    return reads


def is_unavailable(error: BaseException) -> bool:
    """True when `error` means the database cannot be reached or used right now.

    Args:
        error: Any exception raised while talking to the database.
    """
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if isinstance(error, exc.OperationalError | exc.InterfaceError):
            return True
        return isinstance(error.orig, (*_ASYNCPG_CONNECTION_ERRORS, OSError))
    # asyncio.TimeoutError is TimeoutError from 3.11 on; the pool's own timeout is SQLAlchemy's.
    return isinstance(error, (OSError, TimeoutError, exc.TimeoutError, *_ASYNCPG_CONNECTION_ERRORS))


@asynccontextmanager
async def guarded() -> AsyncIterator[None]:
    """Run a repository operation so that the domain never sees a library exception for an outage.

    Raises:
        CatalogUnavailable: The database could not be reached or failed mid-operation.
    """
    try:
        yield
    except asyncio.CancelledError:
        raise
    except Exception as error:
        if is_unavailable(error):
            raise CatalogUnavailable(type(error).__name__) from error
        raise
