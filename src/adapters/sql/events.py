"""The event log on SQLAlchemy: the one statement that appends a change's entries inside its transaction,
and the EventLog port for readers.

Seq order. On PostgreSQL a one-row head (`event_log_head`) holds the next seq: the append upserts it and
inserts the entries in ONE statement (a data-modifying CTE), issued as the transaction's last statement.
The head's row lock is then held only from that statement to COMMIT, so transactions take their seqs in
the order they commit (a second appender waits for the first one's COMMIT or ROLLBACK), a rolled-back
transaction gives its numbers back (no gaps), and the org lock a commit holds is not lengthened by a
round trip. On SQLite every write transaction holds the database's one write lock from BEGIN IMMEDIATE,
so `max(seq) + 1` read by the same INSERT is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from string import Template
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sql._session import engine_of, session_factory
from adapters.sql.engine import guarded
from adapters.sql.models import EVENTS
from domain.errors import CatalogUnavailable
from domain.events import (
    Actor,
    Event,
    EventQuery,
    EventType,
    NewEvent,
    decode_detail,
    encode_detail,
    format_at,
    leaf_bytes,
    parse_at,
)

_COLUMNS = ("at", "type", "org_id", "system_key", "backup_id", "actor", "detail")
_statements: dict[tuple[str, int], str] = {}
_POSTGRESQL = Template(
    "WITH head AS (INSERT INTO event_log_head (id, next_seq) VALUES (1, $count) ON CONFLICT (id) "
    "DO UPDATE SET next_seq = event_log_head.next_seq + $count RETURNING next_seq - $count AS base) "
    "INSERT INTO event_log (seq, $columns) SELECT head.base + v.ord, $picked FROM head, ($rows) AS v RETURNING seq"
)
_SQLITE = Template(
    "INSERT INTO event_log (seq, $columns) "
    "SELECT (SELECT coalesce(max(seq), -1) + 1 FROM event_log) + v.ord, $picked FROM ($rows) AS v WHERE true "
    "RETURNING seq"
)


async def append(connection: AsyncConnection, events: Sequence[NewEvent]) -> int | None:
    """Append `events` with the next seqs, in one statement. Call it LAST in the change's transaction.
    Sent as the driver's own SQL with positional parameters: it runs on every commit, and SQLAlchemy's
    bind processing of a `text()` cost as much as the statement itself.

    Raises:
        CatalogUnavailable: The database failed, or took fewer entries than given (the change rolls back).
    """
    if not events:
        return None
    dialect = connection.dialect
    values = tuple(value for event in events for value in _row(event))
    statement = _statement(dialect.name, str(dialect.paramstyle), len(events))
    seqs = (await connection.exec_driver_sql(statement, values)).scalars().all()
    if len(seqs) != len(events):
        raise CatalogUnavailable(f"the event log took {len(seqs)} of {len(events)} entries")
    return int(min(seqs))


def append_now(connection: Connection, events: Sequence[NewEvent]) -> int | None:
    """`append` on a synchronous connection (the SQLite writer's, or one `AsyncConnection.run_sync` gives)."""
    if not events:
        return None
    dialect = connection.dialect
    values = tuple(value for event in events for value in _row(event))
    statement = _statement(dialect.name, str(dialect.paramstyle), len(events))
    seqs = connection.exec_driver_sql(statement, values).scalars().all()
    if len(seqs) != len(events):
        raise CatalogUnavailable(f"the event log took {len(seqs)} of {len(events)} entries")
    return int(min(seqs))


def _row(event: NewEvent) -> tuple[str | None, ...]:
    return (
        format_at(event.at),
        event.type.value,
        event.org_id,
        event.system_key,
        event.backup_id,
        event.actor.value,
        encode_detail(event.detail),
    )


def _statement(dialect: str, paramstyle: str, count: int) -> str:
    """The append statement for `count` entries, built once per dialect and count."""
    cached = _statements.get((dialect, count))
    if cached is not None:
        return cached
    numbers = iter(range(1, count * len(_COLUMNS) + 1))

    def slot() -> str:
        number = next(numbers)
        return f"${number}" if paramstyle.startswith("numeric") else "?" if paramstyle == "qmark" else "%s"

    rows = " UNION ALL ".join(
        "SELECT " + ", ".join([f"{i} AS ord", *(f"CAST({slot()} AS TEXT) AS {name}" for name in _COLUMNS)])
        for i in range(count)
    )
    columns = ", ".join(_COLUMNS)
    picked = ", ".join(f"v.{name}" for name in _COLUMNS)
    # Only our column names, integers and placeholders are formatted in; every value is a parameter.
    template = _POSTGRESQL if dialect == "postgresql" else _SQLITE
    statement = _statements[(dialect, count)] = template.substitute(
        count=count, columns=columns, picked=picked, rows=rows
    )
    return statement


class SqlEventLog:
    """Reads the `event_log` table. Raises CatalogUnavailable when the database cannot be reached."""

    def __init__(self, source: AsyncEngine | async_sessionmaker[AsyncSession]) -> None:
        self._engine = engine_of(session_factory(source))

    async def events_after(self, seq: int, limit: int) -> list[Event]:
        return await self.search(EventQuery(after=seq, limit=limit))

    async def search(self, query: EventQuery) -> list[Event]:
        statement = select(EVENTS).where(EVENTS.c.seq > query.after)
        if query.system_key is not None:
            statement = statement.where(EVENTS.c.system_key == query.system_key)
        if query.since is not None:
            statement = statement.where(EVENTS.c.at >= format_at(query.since))
        if query.type is not None:
            statement = statement.where(EVENTS.c.type == query.type.value)
        if query.backup_id is not None:
            statement = statement.where(EVENTS.c.backup_id == query.backup_id)
        order = EVENTS.c.seq.desc() if query.newest_first else EVENTS.c.seq
        statement = statement.order_by(order).limit(query.limit)
        async with guarded(), self._engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [event_of(row._mapping) for row in rows]

    async def leaves(self, after: int, limit: int) -> list[tuple[int, bytes]]:
        statement = select(EVENTS).where(EVENTS.c.seq > after).order_by(EVENTS.c.seq).limit(limit)
        async with guarded(), self._engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [(int(row.seq), leaf_bytes(*_stored(row._mapping))) for row in rows]


def _stored(row: Any) -> tuple[Any, ...]:
    return (int(row["seq"]), *(row[name] for name in _COLUMNS[:-2]), row["actor"], row["detail"])


def event_of(row: Any) -> Event:
    """The entry in a result row of `event_log`."""
    return Event(
        seq=int(row["seq"]),
        at=parse_at(row["at"]),
        type=EventType(row["type"]),
        org_id=row["org_id"],
        system_key=row["system_key"],
        backup_id=row["backup_id"],
        actor=Actor(row["actor"]),
        detail=decode_detail(row["detail"]),
    )
