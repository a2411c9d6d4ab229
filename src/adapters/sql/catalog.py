"""The BackupCatalog port on SQLAlchemy: backup rows and each organization's committed bytes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import Select, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sql._session import engine_of, session_factory
from adapters.sql.engine import guarded
from adapters.sql.models import BACKUPS, ORGANIZATIONS, BackupRow, OrganizationRow, SystemRow, backup_of, backup_values
from domain.errors import CatalogUnavailable, Conflict, KeyInFlight, NotFound
from domain.ledger import Committed, Outcome, plan_commit, pruned, settle
from domain.model import Backup, BackupState, BackupStats, Limits
from domain.ports import OrgUsage


class SqlBackupCatalog:
    """Backup metadata in `backups`, usage in `organizations.used_bytes`.

    Commits of one organization serialise on its row: `SELECT ... FOR UPDATE` on PostgreSQL, and on
    SQLite every transaction starts with BEGIN IMMEDIATE (see `make_engine`). Every method raises
    CatalogUnavailable when the database cannot be reached.
    """

    def __init__(self, source: AsyncEngine | async_sessionmaker[AsyncSession]) -> None:
        """Args:
        source: The engine to open sessions on, or a ready sessionmaker.
        """
        self._sessions = session_factory(source)
        self._engine = engine_of(self._sessions)

    async def org_usage(self, org_id: str) -> OrgUsage:
        """Committed bytes and quota override of an organization.

        Raises:
            NotFound: No organization has this id.
        """
        async with guarded(), self._sessions() as session:
            org = await session.get(OrganizationRow, org_id)
        if org is None:
            raise NotFound(f"organization {org_id} not found")
        return OrgUsage(used_bytes=org.used_bytes, quota_override=org.quota_bytes)

    async def stored_backups(self, system_id: str) -> list[Backup]:
        """The system's stored backups, oldest (lowest UUIDv7) first."""
        async with guarded(), self._sessions() as session:
            return await _stored(session, system_id)

    async def begin_upload(self, intent: Backup) -> None:
        """Insert `intent` as an *uploading* row, whatever state the value carries.

        Raises:
            KeyInFlight: Another intent of the system carries the same idempotency key.
            Conflict: A row with this id or object key exists already.
        """
        values = backup_values(replace(intent, state=BackupState.UPLOADING, committed_at=None))
        try:
            async with guarded(), self._engine.begin() as connection:
                await connection.execute(insert(BACKUPS), values)
        except IntegrityError as error:
            if intent.idempotency_key is not None and await self._key_in_flight(intent):
                raise KeyInFlight(intent.idempotency_key) from error
            raise Conflict(f"backup {intent.id} exists already") from error

    async def _key_in_flight(self, intent: Backup) -> bool:
        async with guarded(), self._sessions() as session:
            found = await session.scalar(
                select(BackupRow.id).where(
                    BackupRow.system_id == intent.system_id,
                    BackupRow.idempotency_key == intent.idempotency_key,
                    BackupRow.state == BackupState.UPLOADING.value,
                )
            )
        return found is not None

    async def commit_upload(self, backup: Backup, limits: Limits, now: datetime) -> Committed:
        """Settle the upload against what the system stores, or store it, in one transaction
        (`domain.ledger` describes the steps).

        Args:
            backup: The intent with its final size and sha256.
            limits: The caps and default quota the commit must respect.
            now: The commit's time: `committed_at`, and what an idempotency key's age is measured from.

        Returns:
            The backup that answers, how the upload ended, and the rows now *deleting* whose objects the
            caller erases.

        Raises:
            KeyReused: The idempotency key stored another body within 24 h; nothing changed.
            TooLarge: The org quota refuses the upload even after retention; nothing changed.
            CatalogUnavailable: The database failed, or the intent row is gone (e.g. reaped).
        """
        async with guarded(), self._engine.begin() as connection:
            # Lock the org first: every commit of the org queues here, so what we read next is final.
            # The read must be a statement of its own: under READ COMMITTED a statement that waited for
            # the lock re-reads only the locked row, so backups joined to it would predate the commit
            # that held the lock (a racing duplicate would go unseen; the retry contract catches it).
            org = (await connection.execute(_LOCK_ORG, {"org": backup.org_id})).first()
            rows = (await connection.execute(_INTENT_AND_STORED, {"id": backup.id, "system": backup.system_id})).all()
            found = [backup_of(row._mapping) for row in rows]
            intent = next((b for b in found if b.id == backup.id and b.state is BackupState.UPLOADING), None)
            if org is None or intent is None:
                raise CatalogUnavailable(f"no upload intent {backup.id} to commit")
            incoming = replace(intent, size=backup.size, sha256=backup.sha256)
            stored = [b for b in found if b.state is BackupState.STORED]
            # KeyReused and TooLarge leave the `begin()` block by exception, which rolls everything back.
            settled = settle(incoming, stored, now)
            if settled is not None:
                await _settle_intent(connection, incoming, BackupState.DELETING, None)
                outcome, existing = settled
                return Committed(existing, outcome, [], dropped=replace(incoming, state=BackupState.DELETING))
            plan = plan_commit(
                stored=stored,
                incoming_id=backup.id,
                incoming_size=backup.size,
                used_bytes=org.used_bytes,
                quota_override=org.quota_bytes,
                limits=limits,
            )
            await _settle_intent(
                connection, incoming, BackupState.DELETING if plan.superseded else BackupState.STORED, now
            )
            if plan.victims:
                await connection.execute(
                    update(BACKUPS)
                    .where(BACKUPS.c.id.in_([v.id for v in plan.victims]))
                    .values(state=BackupState.DELETING.value)
                )
            await connection.execute(_SET_USED, {"org": backup.org_id, "used": plan.used_after})
        done = replace(incoming, state=BackupState.STORED, committed_at=now)
        return Committed(done, Outcome.STORED, pruned(plan, done), rules=plan.rules)

    async def keep_alive(self, backup_id: str, at: datetime) -> None:
        async with guarded(), self._sessions.begin() as session:
            await session.execute(
                update(BackupRow)
                .where(BackupRow.id == backup_id, BackupRow.state == BackupState.UPLOADING.value)
                .values(alive_at=at)
            )

    async def abort_upload(self, backup_id: str) -> None:
        """Delete the intent row if it is still *uploading*; anything else is left alone."""
        async with guarded(), self._sessions.begin() as session:
            await session.execute(
                delete(BackupRow).where(BackupRow.id == backup_id, BackupRow.state == BackupState.UPLOADING.value)
            )

    async def finish_deletion(self, backup_ids: Sequence[str]) -> None:
        """Delete the rows among `backup_ids` that are *deleting*; their bytes were uncounted already."""
        if not backup_ids:
            return
        async with guarded(), self._engine.begin() as connection:
            await connection.execute(
                delete(BACKUPS).where(BACKUPS.c.id.in_(list(backup_ids)), BACKUPS.c.state == BackupState.DELETING.value)
            )

    async def get_backup(self, system_id: str, backup_id: str) -> Backup | None:
        """The system's stored backup with this id, else None."""
        async with guarded(), self._sessions() as session:
            row = await session.scalar(_stored_row(system_id, backup_id))
        return None if row is None else row.to_domain()

    async def begin_deletion(self, system_id: str, backup_id: str) -> Backup | None:
        """Mark the stored backup *deleting* and uncount its bytes, serialised on its org's row."""
        async with guarded(), self._sessions.begin() as session:
            row = await session.scalar(_stored_row(system_id, backup_id))
            if row is None:
                return None
            org = await _locked_org(session, row.org_id)
            # Read again under the org lock: a racing delete or prune may have taken it meanwhile.
            row = await session.scalar(_stored_row(system_id, backup_id).with_for_update())
            if row is None:
                return None
            row.state = BackupState.DELETING.value
            if org is not None:
                org.used_bytes -= row.size
            return row.to_domain()

    async def begin_system_deletion(self, system_id: str) -> list[Backup]:
        """Mark every row of the system *deleting* and uncount the stored ones, in one transaction."""
        async with guarded(), self._sessions.begin() as session:
            system = await session.get(SystemRow, system_id)
            if system is None:
                return []
            org = await _locked_org(session, system.org_id)
            rows = list(
                await session.scalars(
                    select(BackupRow).where(BackupRow.system_id == system_id).order_by(BackupRow.id).with_for_update()
                )
            )
            freed = sum(row.size for row in rows if row.state == BackupState.STORED.value)
            for row in rows:
                row.state = BackupState.DELETING.value
            if org is not None:
                org.used_bytes -= freed
            return [row.to_domain() for row in rows]

    async def backup_stats(self, org_id: str | None = None) -> dict[str, BackupStats]:
        """One aggregate query over the stored rows, grouped by system."""
        query = (
            select(BackupRow.system_id, func.count(), func.sum(BackupRow.size), func.max(BackupRow.uploaded_at))
            .where(BackupRow.state == BackupState.STORED.value)
            .group_by(BackupRow.system_id)
        )
        if org_id is not None:
            query = query.where(BackupRow.org_id == org_id)
        async with guarded(), self._sessions() as session:
            result = await session.execute(query)
            return {
                system_id: BackupStats(count=count, total_size=int(total or 0), last_backup_at=_utc(last))
                for system_id, count, total, last in result.all()
            }

    async def count_stale_systems(self, uploaded_before: datetime) -> int:
        """Every system left-joined to its newest stored upload, counted in the database."""
        newest = (
            select(BackupRow.system_id, func.max(BackupRow.uploaded_at).label("last"))
            .where(BackupRow.state == BackupState.STORED.value)
            .group_by(BackupRow.system_id)
            .subquery()
        )
        query = (
            select(func.count())
            .select_from(SystemRow)
            .outerjoin(newest, newest.c.system_id == SystemRow.id)
            .where(or_(newest.c.last.is_(None), newest.c.last < uploaded_before))
        )
        async with guarded(), self._sessions() as session:
            return int((await session.execute(query)).scalar_one())

    async def ping(self) -> None:
        """Raise CatalogUnavailable unless the database answers a trivial query."""
        async with guarded(), self._sessions() as session:
            await session.execute(select(1))


# The commit path in Core statements: no ORM objects on the hot path.
_LOCK_ORG = (
    select(OrganizationRow.used_bytes, OrganizationRow.quota_bytes)
    .where(OrganizationRow.id == bindparam("org"))
    .with_for_update()
)
# The intent and the system's stored backups in one read, oldest first. The intent is not locked: the
# org lock serialises commits, and `_settle_intent` only updates it while it is still *uploading*.
_INTENT_AND_STORED = (
    select(BACKUPS)
    .where(
        BACKUPS.c.system_id == bindparam("system"),
        or_(BACKUPS.c.state == BackupState.STORED.value, BACKUPS.c.id == bindparam("id")),
    )
    .order_by(BACKUPS.c.id)
)
_SET_USED = update(ORGANIZATIONS).where(ORGANIZATIONS.c.id == bindparam("org")).values(used_bytes=bindparam("used"))


async def _settle_intent(
    connection: AsyncConnection, incoming: Backup, state: BackupState, now: datetime | None
) -> None:
    """Give the intent its final size, digest and state, or raise (rolling back) when a racing abort or
    the reaper took it meanwhile."""
    result = await connection.execute(
        update(BACKUPS)
        .where(BACKUPS.c.id == incoming.id, BACKUPS.c.state == BackupState.UPLOADING.value)
        .values(size=incoming.size, sha256=incoming.sha256, state=state.value, committed_at=now)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise CatalogUnavailable(f"no upload intent {incoming.id} to commit")


async def _stored(session: AsyncSession, system_id: str) -> list[Backup]:
    rows = await session.scalars(
        select(BackupRow)
        .where(BackupRow.system_id == system_id, BackupRow.state == BackupState.STORED.value)
        .order_by(BackupRow.id)
    )
    return [row.to_domain() for row in rows]


def _stored_row(system_id: str, backup_id: str) -> Select[BackupRow]:
    return select(BackupRow).where(
        BackupRow.id == backup_id, BackupRow.system_id == system_id, BackupRow.state == BackupState.STORED.value
    )


async def _locked_org(session: AsyncSession, org_id: str) -> OrganizationRow | None:
    """Take the org's row lock, the one every commit of the org queues on."""
    return await session.scalar(select(OrganizationRow).where(OrganizationRow.id == org_id).with_for_update())


def _utc(value: datetime | str | None) -> datetime | None:
    """`max()` over the column loses its type on SQLite (a naive value or a string comes back)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
