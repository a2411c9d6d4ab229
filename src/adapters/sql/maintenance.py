"""The MaintenanceCatalog port on SQLAlchemy: the whole ledger for fsck and the reaper."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import case, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sql import events as log
from adapters.sql._session import session_factory
from adapters.sql.engine import guarded
from adapters.sql.models import BACKUPS, BackupRow, OrganizationRow
from domain import entries
from domain.maintenance import Quarantine
from domain.model import Backup, BackupState


class SqlMaintenanceCatalog:
    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession] | None = None) -> None:
        self._engine = engine
        self._sessions = sessions or session_factory(engine)

    async def all_backups(self) -> list[Backup]:
        async with guarded(), self._sessions() as session:
            rows = await session.scalars(select(BackupRow).order_by(BackupRow.id))
            return [row.to_domain() for row in rows]

    async def recorded_usage(self) -> dict[str, int]:
        async with guarded(), self._sessions() as session:
            result = await session.execute(select(OrganizationRow.id, OrganizationRow.used_bytes))
            return {org_id: used for org_id, used in result}

    async def set_usage(self, org_id: str, used_bytes: int) -> None:
        async with guarded(), self._sessions.begin() as session:
            await session.execute(
                update(OrganizationRow).where(OrganizationRow.id == org_id).values(used_bytes=used_bytes)
            )

    async def forget(self, backup_ids: Sequence[str], quarantined: Quarantine | None = None) -> None:
        if not backup_ids:
            return
        async with guarded(), self._sessions.begin() as session:
            rows = (await session.scalars(select(BackupRow).where(BackupRow.id.in_(backup_ids)))).all()
            logged = []
            for row in rows:
                if row.state == BackupState.STORED.value and quarantined is not None:
                    q = quarantined
                    logged.append(entries.quarantined(row.to_domain(), q.at, q.reason, q.moved_to))
                if row.state == BackupState.STORED.value:
                    # Lock the org's row like a commit does, so counters stay exact under concurrency.
                    org = await session.scalar(
                        select(OrganizationRow).where(OrganizationRow.id == row.org_id).with_for_update()
                    )
                    if org is not None:
                        org.used_bytes -= row.size
            await session.execute(delete(BackupRow).where(BackupRow.id.in_(backup_ids)))
            await log.append(await session.connection(), logged)

    async def due_for_verification(
        self, verified_before: datetime, limit: int, system_id: str | None = None
    ) -> list[Backup]:
        query = select(BackupRow).where(
            BackupRow.state == BackupState.STORED.value,
            or_(BackupRow.verified_at.is_(None), BackupRow.verified_at < verified_before),
        )
        if system_id is not None:
            query = query.where(BackupRow.system_id == system_id)
        never_first = case((BackupRow.verified_at.is_(None), 0), else_=1)
        query = query.order_by(never_first, BackupRow.verified_at, BackupRow.id).limit(limit)
        async with guarded(), self._sessions() as session:
            return [row.to_domain() for row in await session.scalars(query)]

    async def record_verification(self, backup: Backup, result: str, at: datetime) -> None:
        async with guarded(), self._engine.begin() as connection:
            changed = await connection.execute(
                update(BACKUPS)
                .where(BACKUPS.c.id == backup.id, BACKUPS.c.state == BackupState.STORED.value)
                .values(verified_at=at, verify_state=result)
            )
            if getattr(changed, "rowcount", 0) == 1:
                await log.append(connection, [entries.verified(backup, at, result)])

    async def count_unverified(self, verified_before: datetime) -> int:
        query = select(func.count()).where(
            BackupRow.state == BackupState.STORED.value,
            or_(BackupRow.verified_at.is_(None), BackupRow.verified_at < verified_before),
        )
        async with guarded(), self._sessions() as session:
            return int((await session.execute(query)).scalar_one())

    @asynccontextmanager
    async def lease(self, name: str) -> AsyncIterator[bool]:
        """PostgreSQL: a session advisory lock held for the pass. SQLite serves one host, whose
        writers BEGIN IMMEDIATE already serialise; every pass there is idempotent."""
        if self._engine.dialect.name != "postgresql":
            yield True
            return
        key = zlib.crc32(f"backup-collect:{name}".encode())
        async with guarded(), self._engine.connect() as conn:
            held = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
            await conn.commit()
            try:
                yield held
            finally:
                if held:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    await conn.commit()
