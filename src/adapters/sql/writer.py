"""SQLite's writer thread: each write transaction of the upload path in ONE hop off the event loop.

Through aiosqlite every DBAPI call is a hop to the connection's thread and back (making a cursor,
executing, fetching, closing it, BEGIN, COMMIT): about 40 per upload, each a future, a wake-up of the
event loop and a handover of the GIL. The writer runs a whole transaction as plain synchronous code on a
connection of its own in one thread, so a transaction costs one hop. It is also where group commit would
batch the transactions queued at one moment (see docs/performance.md).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import tune_sqlite

T = TypeVar("T")
_writers: weakref.WeakKeyDictionary[Engine, SqliteWriter] = weakref.WeakKeyDictionary()


class SqliteWriter:
    """One synchronous connection to the same database file, used by one thread only."""

    def __init__(self, engine: AsyncEngine) -> None:
        url = engine.url.set(drivername="sqlite+pysqlite")
        self.engine: Engine = create_engine(
            url, pool_size=1, max_overflow=0, connect_args={"check_same_thread": False}
        )  # closed from the event loop's thread by `close`, used only in the writer's
        """The synchronous engine (its events are the place to watch the writer's statements)."""
        tune_sqlite(self.engine)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")

    async def transaction(self, work: Callable[..., T], *args: Any) -> T:
        """`work(connection, *args)` inside BEGIN IMMEDIATE … COMMIT (ROLLBACK when it raises), in the
        writer thread; its result or its exception."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._run, work, args)

    def _run(self, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self.engine.begin() as connection:
            return work(connection, *args)

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self.engine.dispose()


def writer_of(engine: AsyncEngine) -> SqliteWriter | None:
    """The writer of a SQLite database file's engine (made at first use, closed when the engine is
    disposed), or None for any other database."""
    url = engine.url
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    found = _writers.get(engine.sync_engine)
    if found is None:
        found = _writers[engine.sync_engine] = SqliteWriter(engine)

        def _disposed(sync_engine: Engine) -> None:
            writer = _writers.pop(sync_engine, None)
            if writer is not None:
                writer.close()

        event.listen(engine.sync_engine, "engine_disposed", _disposed, once=True)
    return found
