"""The SystemHealth port on SQLAlchemy: the state rule's facts in one query, schedules, refusals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Row, Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sql import events
from adapters.sql._session import engine_of, session_factory
from adapters.sql.engine import guarded
from adapters.sql.models import BACKUPS, ORGANIZATIONS, SYSTEMS, RefusalRow, utc
from domain.errors import NotFound
from domain.events import NewEvent
from domain.health import LastError, ScheduleOverride, SystemFacts
from domain.model import BackupState, SystemIdentity

REFUSALS = cast(Table, RefusalRow.__table__)
_STORED = (
    select(
        BACKUPS.c.system_id,
        func.count().label("backups"),
        func.sum(BACKUPS.c.size).label("total_size"),
        func.max(BACKUPS.c.uploaded_at).label("last_backup_at"),
    )
    .where(BACKUPS.c.state == BackupState.STORED.value)
    .group_by(BACKUPS.c.system_id)
)


class SqlSystemHealth:
    """Reads `systems`, `organizations` and the stored rows of `backups`; writes the schedule and
    last-error columns of the first two."""

    def __init__(self, source: AsyncEngine | async_sessionmaker[AsyncSession]) -> None:
        self._engine = engine_of(session_factory(source))

    async def facts(self, org_id: str | None = None, system_key: str | None = None) -> list[SystemFacts]:
        """Systems joined to their org and to their stored rows' aggregate, the aggregate narrowed to
        the same systems so one system's status never groups the whole fleet's rows."""
        systems = select(SYSTEMS.c.id)
        if org_id is not None:
            systems = systems.where(SYSTEMS.c.org_id == org_id)
        if system_key is not None:
            systems = systems.where(SYSTEMS.c.system_key == system_key)
        narrowed = org_id is not None or system_key is not None
        stored = (_STORED.where(BACKUPS.c.system_id.in_(systems)) if narrowed else _STORED).subquery()
        query = (
            select(
                SYSTEMS,
                ORGANIZATIONS.c.expect_every_s.label("org_every"),
                ORGANIZATIONS.c.grace_s.label("org_grace"),
                stored.c.backups,
                stored.c.total_size,
                stored.c.last_backup_at,
            )
            .join(ORGANIZATIONS, ORGANIZATIONS.c.id == SYSTEMS.c.org_id)
            .outerjoin(stored, stored.c.system_id == SYSTEMS.c.id)
        )
        if narrowed:
            query = query.where(SYSTEMS.c.id.in_(systems))
        async with guarded(), self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        # Sorted here: a PostgreSQL collation would order keys unlike SQLite and the memory adapter.
        return sorted((_facts(row) for row in rows), key=lambda f: f.identity.system_key)

    async def record_refusal(self, system_id: str, error: LastError) -> None:
        values = {
            "last_error_status": error.status,
            "last_error_key": error.key,
            "last_error_message": error.message,
            "last_error_at": error.at,
        }
        async with guarded(), self._engine.begin() as connection:
            await connection.execute(update(SYSTEMS).where(SYSTEMS.c.id == system_id).values(**values))
            await connection.execute(insert(REFUSALS).values(system_id=system_id, status=error.status, at=error.at))

    async def refusals_since(self, since: datetime) -> dict[str, int]:
        query = select(REFUSALS.c.system_id, func.count()).where(REFUSALS.c.at >= since).group_by(REFUSALS.c.system_id)
        async with guarded(), self._engine.connect() as connection:
            return {system_id: count for system_id, count in (await connection.execute(query)).all()}

    async def set_system_schedule(
        self, system_key: str, schedule: ScheduleOverride, event: NewEvent | None = None
    ) -> None:
        async with guarded(), self._engine.begin() as connection:
            result = await connection.execute(
                update(SYSTEMS).where(SYSTEMS.c.system_key == system_key).values(**_columns(schedule))
            )
            if result.rowcount == 0:
                raise NotFound(f"system {system_key} not found")
            if event is not None:
                await events.append(connection, [event])

    async def set_org_schedule(self, org_id: str, schedule: ScheduleOverride) -> None:
        async with guarded(), self._engine.begin() as connection:
            result = await connection.execute(
                update(ORGANIZATIONS).where(ORGANIZATIONS.c.id == org_id).values(**_columns(schedule))
            )
        if result.rowcount == 0:
            raise NotFound(f"organization {org_id} not found")

    async def announce(self, changes: Sequence[tuple[str, str]], new: Sequence[NewEvent]) -> None:
        async with guarded(), self._engine.begin() as connection:
            for system_id, state in changes:
                await connection.execute(update(SYSTEMS).where(SYSTEMS.c.id == system_id).values(notified_state=state))
            await events.append(connection, list(new))


def _columns(schedule: ScheduleOverride) -> dict[str, int | None]:
    return {"expect_every_s": _seconds(schedule.every), "grace_s": _seconds(schedule.grace)}


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def _span(seconds: int | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


def _facts(row: Row[Any]) -> SystemFacts:
    error_at = utc(row.last_error_at)
    last_error = (
        None
        if error_at is None
        else LastError(
            status=row.last_error_status,
            key=row.last_error_key or "",
            message=row.last_error_message or "",
            at=error_at,
        )
    )
    created_at = utc(row.created_at)
    assert created_at is not None  # noqa: S101 - the column is NOT NULL
    return SystemFacts(
        identity=SystemIdentity(system_id=row.id, system_key=row.system_key, org_id=row.org_id),
        suspended=row.suspended,
        created_at=created_at,
        backups=row.backups or 0,
        total_size=int(row.total_size or 0),
        last_backup_at=utc(row.last_backup_at),
        last_error=last_error,
        own=ScheduleOverride(every=_span(row.expect_every_s), grace=_span(row.grace_s)),
        org=ScheduleOverride(every=_span(row.org_every), grace=_span(row.org_grace)),
        notified=row.notified_state,
    )
