"""SQLite's writer thread: each write transaction of the upload path in ONE hop off the event loop.

Through aiosqlite every DBAPI call is a hop to the connection's thread and back (making a cursor,
executing, fetching, closing it, BEGIN, COMMIT): about 40 per upload, each a future, a wake-up of the
event loop and a handover of the GIL. The writer runs a whole transaction as plain synchronous code on a
connection of its own in one thread, so a transaction costs one hop.

Group commit: the writer takes every unit of work queued at that moment (they queue while the previous
group waits for its fsync), runs each in its own SAVEPOINT inside ONE transaction, commits once (one fsync
for the group), and only then answers each unit: its result, or the exception that rolled back its own
savepoint only (a refusal of one upload leaves the others in the group alone). When the COMMIT fails,
every unit of the group fails with it: nothing of the group was acknowledged, nothing is stored.
"""

from __future__ import annotations

import asyncio
import queue
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import tune_sqlite

T = TypeVar("T")
_Unit = tuple[Callable[..., Any], tuple[Any, ...], "Future[Any]"]
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
        self._queued: queue.SimpleQueue[_Unit] = queue.SimpleQueue()

    async def transaction(self, work: Callable[..., T], *args: Any) -> T:
        """`work(connection, *args)` in its own SAVEPOINT of the next group's transaction, in the writer
        thread; its result once the group's COMMIT is on disk, or its exception (its savepoint rolled
        back), or the COMMIT's."""
        done: Future[T] = Future()
        self._queued.put((work, args, done))
        self._thread.submit(self._drain)  # a drain that finds the queue emptied by an earlier one returns
        return await asyncio.wrap_future(done)

    def _drain(self) -> None:
        units: list[_Unit] = []
        while True:
            try:
                unit = self._queued.get_nowait()
            except queue.Empty:
                break
            if unit[2].set_running_or_notify_cancel():  # a unit whose caller is gone is never run
                units.append(unit)
        if not units:
            return
        answers: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            with self.engine.begin() as connection:
                for work, args, done in units:
                    savepoint = connection.begin_nested()
                    try:
                        result = work(connection, *args)
                    except Exception as error:
                        savepoint.rollback()
                        answers.append((done, None, error))
                    else:
                        savepoint.commit()
                        answers.append((done, result, None))
        except Exception as error:
            for _work, _args, done in units:
                _answer(done, None, error)
            return
        for done, result, failure in answers:
            _answer(done, result, failure)

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self.engine.dispose()


def _answer(done: Future[Any], result: Any, failure: BaseException | None) -> None:
    if failure is None:
        done.set_result(result)
    else:
        done.set_exception(failure)


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
