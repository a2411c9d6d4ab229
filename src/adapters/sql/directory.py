"""The SystemDirectory port on SQLAlchemy: organizations, systems and their credentials."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sql import events
from adapters.sql._session import engine_of, session_factory
from adapters.sql.engine import guarded
from adapters.sql.models import BackupRow, OrganizationRow, SystemRow, backup_of, policy_of, policy_values
from domain.credentials import verify_secret
from domain.entries import org_event, system_event
from domain.errors import Conflict, NotFound
from domain.events import EventType, NewEvent, WallClock
from domain.model import BackupState, Organization, RetentionPolicy, SystemIdentity, SystemRecord
from domain.ports import Clock, OrgUsage, Standing


class SqlSystemDirectory:
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
        # Authentication runs on every request: plain Core statements on a connection, no ORM session.
        self._engine = reads or engine_of(self._sessions)

    async def authenticate(self, system_key: str, secret: str) -> SystemIdentity | None:
        """The identity of an active system whose secret matches, else None.

        An unknown key still pays for one hash comparison, so timing does not reveal which keys exist.
        """
        async with guarded(), self._engine.connect() as connection:
            row = (await connection.execute(_SYSTEM, {"key": system_key})).first()
        return _identity(row, secret)

    async def authenticate_upload(self, system_key: str, secret: str) -> Standing | None:
        """The identity, the org's usage and the system's stored backups, in one query (a row per stored
        backup, or one with NULL backup columns when there is none)."""
        async with guarded(), self._engine.connect() as connection:
            rows: Sequence[Any] = (await connection.execute(_STANDING, {"key": system_key})).all()
        identity = _identity(rows[0] if rows else None, secret)
        if identity is None:
            return None
        first = rows[0]
        return Standing(
            identity=identity,
            usage=OrgUsage(
                used_bytes=first.used_bytes,
                quota_override=first.quota_bytes,
                retention=policy_of(first.keep_last, first.keep_daily, first.keep_weekly, first.keep_monthly),
            ),
            stored=tuple(backup_of(row._mapping, "b_") for row in rows if row.b_id is not None),
        )

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
        async with guarded(), self._sessions.begin() as session:
            result = await session.execute(
                update(SystemRow)
                .where(SystemRow.system_key == system_key)
                .values(suspended=suspended)
                .returning(SystemRow.id, SystemRow.org_id)
            )
            row = result.first()
            if row is None:
                raise NotFound(f"system {system_key} not found")
            kind = EventType.SYSTEM_SUSPENDED if suspended else EventType.SYSTEM_RESUMED
            who = SystemIdentity(system_id=row.id, system_key=system_key, org_id=row.org_id)
            await self._log(session, system_event(kind, who, self._clock.now()))

    async def list_orgs(self) -> list[Organization]:
        """Every organization, by id."""
        async with guarded(), self._sessions() as session:
            rows = await session.scalars(select(OrganizationRow).order_by(OrganizationRow.id))
            return [r.to_domain() for r in rows]

    async def set_org_quota(self, org_id: str, quota_bytes: int | None) -> Organization:
        """Raises NotFound for an unknown id."""
        async with guarded(), self._sessions.begin() as session:
            # Locked like a commit does, so a racing upload sees the old quota or the new one, whole.
            row = await session.scalar(select(OrganizationRow).where(OrganizationRow.id == org_id).with_for_update())
            if row is None:
                raise NotFound(f"organization {org_id} not found")
            row.quota_bytes = quota_bytes
            org = row.to_domain()
            await self._log(session, org_event(EventType.ORG_QUOTA_CHANGED, org, self._clock.now()))
            return org

    async def set_org_retention(self, org_id: str, policy: RetentionPolicy | None) -> Organization:
        """Raises NotFound for an unknown id."""
        async with guarded(), self._sessions.begin() as session:
            # Locked like a commit does: a racing upload prunes under the old policy or the new one, whole.
            row = await session.scalar(select(OrganizationRow).where(OrganizationRow.id == org_id).with_for_update())
            if row is None:
                raise NotFound(f"organization {org_id} not found")
            for column, value in policy_values(policy).items():
                setattr(row, column, value)
            org = row.to_domain()
            await self._log(session, org_event(EventType.ORG_RETENTION_CHANGED, org, self._clock.now()))
            return org

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
        async with guarded(), self._sessions.begin() as session:
            result = await session.execute(
                update(SystemRow)
                .where(SystemRow.system_key == system_key)
                .values(secret_hash=secret_hash)
                .returning(SystemRow.id, SystemRow.org_id)
            )
            row = result.first()
            if row is None:
                raise NotFound(f"system {system_key} not found")
            who = SystemIdentity(system_id=row.id, system_key=system_key, org_id=row.org_id)
            await self._log(session, system_event(EventType.SYSTEM_SECRET_ROTATED, who, self._clock.now()))

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

    async def _log(self, session: AsyncSession, event: NewEvent) -> None:
        """Append `event` in the session's transaction, after what it changed (flushed first)."""
        await session.flush()
        await events.append(await session.connection(), [event])


_SYSTEM_COLUMNS = (SystemRow.id, SystemRow.system_key, SystemRow.org_id, SystemRow.secret_hash, SystemRow.suspended)
_SYSTEM = select(*_SYSTEM_COLUMNS).where(SystemRow.system_key == bindparam("key"))
_POLICY_COLUMNS = (
    OrganizationRow.keep_last,
    OrganizationRow.keep_daily,
    OrganizationRow.keep_weekly,
    OrganizationRow.keep_monthly,
)
_BACKUP_COLUMNS = tuple(column.label(f"b_{column.key}") for column in BackupRow.__table__.columns)
_STANDING = (
    select(
        *_SYSTEM_COLUMNS, OrganizationRow.used_bytes, OrganizationRow.quota_bytes, *_POLICY_COLUMNS, *_BACKUP_COLUMNS
    )
    .join(OrganizationRow, OrganizationRow.id == SystemRow.org_id)
    .outerjoin(BackupRow, and_(BackupRow.system_id == SystemRow.id, BackupRow.state == BackupState.STORED.value))
    .where(SystemRow.system_key == bindparam("key"))
    .order_by(BackupRow.id)
)


def _identity(row: Row[Any] | Row[str, str, str, str, bool] | None, secret: str) -> SystemIdentity | None:
    """The identity when `row` is an active system whose secret matches; the hash comparison is paid
    for a missing row too."""
    if not verify_secret(secret, row.secret_hash if row is not None else None):
        return None
    # verify_secret is False for a missing row; the check also narrows the type.
    if row is None or row.suspended:
        return None
    return SystemIdentity(system_id=row.id, system_key=row.system_key, org_id=row.org_id)


def _record(row: SystemRow) -> SystemRecord:
    return SystemRecord(
        identity=SystemIdentity(system_id=row.id, system_key=row.system_key, org_id=row.org_id),
        suspended=row.suspended,
    )
