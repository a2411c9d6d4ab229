"""The SystemDirectory port on SQLAlchemy: organizations, systems and their credentials."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sql import events
from adapters.sql._session import engine_of, session_factory
from adapters.sql.authentication import SqlAuthentication
from adapters.sql.engine import guarded
from adapters.sql.models import OrganizationRow, SystemRow, policy_values
from domain.entries import org_event, system_event
from domain.errors import Conflict, NotFound
from domain.events import EventType, NewEvent, WallClock
from domain.model import Organization, RetentionPolicy, SystemIdentity, SystemRecord
from domain.ports import Clock


class SqlSystemDirectory(SqlAuthentication):
    """Organizations and systems in the `organizations` and `systems` tables.

    Every method raises CatalogUnavailable when the database cannot be reached.
    """

    def __init__(
        self,
        source: AsyncEngine | async_sessionmaker[AsyncSession],
        clock: Clock | None = None,
        reads: AsyncEngine | None = None,
    ) -> None:
        """Args:
        source: The engine to open sessions on, or a ready sessionmaker.
        clock: The time of the log entries the directory's changes write (default: the system's).
        reads: The engine authentication reads on (`make_read_engine`: on SQLite, connections beside the
            writer's); default: the source's engine.
        """
        self._sessions = session_factory(source)
        self._clock = clock or WallClock()
        super().__init__(reads or engine_of(self._sessions))

    async def create_org(self, org: Organization) -> None:
        """Insert `org` with nothing used yet.

        Raises:
            Conflict: An organization with this id exists already.
        """
        try:
            async with guarded(), self._sessions.begin() as session:
                session.add(
                    OrganizationRow(
                        id=org.id,
                        name=org.name,
                        quota_bytes=org.quota_bytes,
                        used_bytes=0,
                        **policy_values(org.retention),
                    )
                )
                await self._log(session, org_event(EventType.ORG_CREATED, org, self._clock.now()))
        except IntegrityError as error:
            raise Conflict(f"organization {org.id} exists already") from error

    async def get_org(self, org_id: str) -> Organization | None:
        """The organization with this id, or None."""
        async with guarded(), self._sessions() as session:
            row = await session.get(OrganizationRow, org_id)
        if row is None:
            return None
        return row.to_domain()

    async def create_system(
        self, identity: SystemIdentity, secret_hash: str, created_at: datetime | None = None
    ) -> None:
        """Insert an active system keeping only the salted hash of its secret.

        Raises:
            NotFound: The organization does not exist.
            Conflict: The system key (or id) is taken.
        """
        try:
            async with guarded(), self._sessions.begin() as session:
                # Checked up front so an unknown org is NotFound on every backend, not an FK error.
                if await session.get(OrganizationRow, identity.org_id) is None:
                    raise NotFound(f"organization {identity.org_id} not found")
                session.add(
                    SystemRow(
                        id=identity.system_id,
                        system_key=identity.system_key,
                        org_id=identity.org_id,
                        secret_hash=secret_hash,
                        suspended=False,
                        **({} if created_at is None else {"created_at": created_at}),
                    )
                )
                await self._log(session, system_event(EventType.SYSTEM_CREATED, identity, self._clock.now()))
        except IntegrityError as error:
            raise Conflict(f"system {identity.system_key} exists already") from error

    async def set_suspended(self, system_key: str, suspended: bool) -> None:
        """Raises NotFound for an unknown key."""
        kind = EventType.SYSTEM_SUSPENDED if suspended else EventType.SYSTEM_RESUMED
        await self._change_system(system_key, kind, suspended=suspended)

    async def list_orgs(self) -> list[Organization]:
        """Every organization, by id."""
        async with guarded(), self._sessions() as session:
            rows = await session.scalars(select(OrganizationRow).order_by(OrganizationRow.id))
            return [r.to_domain() for r in rows]

    async def set_org_quota(self, org_id: str, quota_bytes: int | None) -> Organization:
        """Raises NotFound for an unknown id."""
        return await self._change_org(org_id, EventType.ORG_QUOTA_CHANGED, {"quota_bytes": quota_bytes})

    async def set_org_retention(self, org_id: str, policy: RetentionPolicy | None) -> Organization:
        """Raises NotFound for an unknown id."""
        return await self._change_org(org_id, EventType.ORG_RETENTION_CHANGED, policy_values(policy))

    async def get_system(self, system_key: str) -> SystemRecord | None:
        async with guarded(), self._sessions() as session:
            row = await session.scalar(select(SystemRow).where(SystemRow.system_key == system_key))
        return None if row is None else _record(row)

    async def list_systems(self, org_id: str | None = None) -> list[SystemRecord]:
        """Every system, or those of one organization, by key, compared character by character.

        Sorted here rather than by ORDER BY: a PostgreSQL database created with a language's collation
        (en_US.UTF-8) would put `a-fw` before `B-fw`, unlike SQLite, the in-memory directory and `sorted`.
        """
        query = select(SystemRow)
        if org_id is not None:
            query = query.where(SystemRow.org_id == org_id)
        async with guarded(), self._sessions() as session:
            rows = list(await session.scalars(query))
        return [_record(row) for row in sorted(rows, key=lambda row: row.system_key)]

    async def set_secret(self, system_key: str, secret_hash: str) -> None:
        """Raises NotFound for an unknown key."""
        await self._change_system(system_key, EventType.SYSTEM_SECRET_ROTATED, secret_hash=secret_hash)

    async def delete_system(self, system_key: str) -> None:
        """Absent keys are a no-op.

        Raises:
            Conflict: Backup rows still point at the system (one raced in); deleting again resolves it.
        """
        try:
            async with guarded(), self._sessions.begin() as session:
                result = await session.execute(
                    delete(SystemRow)
                    .where(SystemRow.system_key == system_key)
                    .returning(SystemRow.id, SystemRow.org_id)
                )
                row = result.first()
                if row is not None:
                    who = SystemIdentity(system_id=row.id, system_key=system_key, org_id=row.org_id)
                    await self._log(session, system_event(EventType.SYSTEM_DESTROYED, who, self._clock.now()))
        except IntegrityError as error:
            raise Conflict(f"system {system_key} still has backups; run the deletion again") from error

    async def _change_system(self, system_key: str, kind: EventType, **values: object) -> None:
        """Set `values` on the system's row and log `kind`, in one transaction. Raises NotFound for an
        unknown key."""
        async with guarded(), self._sessions.begin() as session:
            result = await session.execute(
                update(SystemRow)
                .where(SystemRow.system_key == system_key)
                .values(**values)
                .returning(SystemRow.id, SystemRow.org_id)
            )
            row = result.first()
            if row is None:
                raise NotFound(f"system {system_key} not found")
            who = SystemIdentity(system_id=row.id, system_key=system_key, org_id=row.org_id)
            await self._log(session, system_event(kind, who, self._clock.now()))

    async def _change_org(self, org_id: str, kind: EventType, values: Mapping[str, object]) -> Organization:
        """Set `values` on the organization's row and log `kind` with its settings after, in one
        transaction. Raises NotFound for an unknown id."""
        async with guarded(), self._sessions.begin() as session:
            # Locked like a commit does: a racing upload sees the old quota and policy or the new ones, whole.
            row = await session.scalar(select(OrganizationRow).where(OrganizationRow.id == org_id).with_for_update())
            if row is None:
                raise NotFound(f"organization {org_id} not found")
            for column, value in values.items():
                setattr(row, column, value)
            org = row.to_domain()
            await self._log(session, org_event(kind, org, self._clock.now()))
            return org

    async def _log(self, session: AsyncSession, event: NewEvent) -> None:
        """Append `event` in the session's transaction, after what it changed (flushed first)."""
        await session.flush()
        await events.append(await session.connection(), [event])


def _record(row: SystemRow) -> SystemRecord:
    return SystemRecord(
        identity=SystemIdentity(system_id=row.id, system_key=row.system_key, org_id=row.org_id),
        suspended=row.suspended,
    )
