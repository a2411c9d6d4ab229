"""The commit path of the SQL catalog: upload intents, the commit, and the rows it leaves *deleting*.

`SqlBackupCatalog` (`catalog.py`) adds the queries and operator deletions; this half is the hot path, in
Core statements where it counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sql import events
from adapters.sql._session import engine_of, session_factory
from adapters.sql.engine import guarded
from adapters.sql.models import BACKUPS, ORGANIZATIONS, BackupRow, OrganizationRow, backup_of, backup_values, policy_of
from adapters.sql.writer import writer_of
from domain import quota
from domain.commit_alerts import commit_alerts
from domain.errors import CatalogUnavailable, Conflict, KeyInFlight
from domain.events import NewEvent, WallClock, commit_events
from domain.ledger import Committed, Outcome, plan_commit, pruned, settle
from domain.model import Backup, BackupState, Limits
from domain.ports import Clock

T = TypeVar("T")


class SqlCommitPath:
    """Intents, commits and finished deletions on `backups` and `organizations.used_bytes`.

    Commits of one organization serialise on its row: `SELECT ... FOR UPDATE` on PostgreSQL, and on
    SQLite every transaction starts with BEGIN IMMEDIATE (see `make_engine`). Every method raises
    CatalogUnavailable when the database cannot be reached.
    """

    def __init__(self, source: AsyncEngine | async_sessionmaker[AsyncSession], clock: Clock | None = None) -> None:
        """Args:
        source: The engine to open sessions on, or a ready sessionmaker.
        clock: The time of the log entries written outside a commit (default: the system's).
        """
        self._sessions = session_factory(source)
        self._engine = engine_of(self._sessions)
        self._clock = clock or WallClock()

    async def begin_upload(self, intent: Backup) -> None:
        """Insert `intent` as an *uploading* row, whatever state the value carries.

        Raises:
            KeyInFlight: Another intent of the system carries the same idempotency key.
            Conflict: A row with this id or object key exists already.
        """
        values = backup_values(replace(intent, state=BackupState.UPLOADING, committed_at=None))
        try:
            async with guarded():
                await self._transaction(_insert_intent, values)
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
        async with guarded():
            return await self._transaction(_commit, backup, limits, now)

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
        async with guarded():
            await self._transaction(_delete_finished, list(backup_ids))

    async def _transaction(self, work: Callable[..., T], *args: Any) -> T:
        """`work(connection, *args)` in one write transaction: on a SQLite file, one hop to the writer
        thread (`adapters.sql.writer`); elsewhere through `run_sync` on a pooled connection."""
        writer = writer_of(self._engine)
        if writer is not None:
            return await writer.transaction(work, *args)
        async with self._engine.begin() as connection:
            return await connection.run_sync(work, *args)


# The commit path in Core statements: no ORM objects on the hot path.
_LOCK_ORG = (
    select(
        OrganizationRow.used_bytes,
        OrganizationRow.quota_bytes,
        OrganizationRow.keep_last,
        OrganizationRow.keep_daily,
        OrganizationRow.keep_weekly,
        OrganizationRow.keep_monthly,
    )
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


def _commit(connection: Connection, backup: Backup, limits: Limits, now: datetime) -> Committed:
    """`SqlCommitPath.commit_upload`'s transaction, as synchronous statements: in the SQLite writer's
    thread, or through `AsyncConnection.run_sync` (each statement still awaited) on PostgreSQL."""
    # Lock the org first: every commit of the org queues here, so what we read next is final.
    # The read must be a statement of its own: under READ COMMITTED a statement that waited for
    # the lock re-reads only the locked row, so backups joined to it would predate the commit
    # that held the lock (a racing duplicate would go unseen; the retry contract catches it).
    org = (connection.execute(_LOCK_ORG, {"org": backup.org_id})).first()
    rows = (connection.execute(_INTENT_AND_STORED, {"id": backup.id, "system": backup.system_id})).all()
    found = [backup_of(row._mapping) for row in rows]
    intent = next((b for b in found if b.id == backup.id and b.state is BackupState.UPLOADING), None)
    if org is None or intent is None:
        raise CatalogUnavailable(f"no upload intent {backup.id} to commit")
    incoming = replace(intent, size=backup.size, sha256=backup.sha256)
    stored = [b for b in found if b.state is BackupState.STORED]
    # KeyReused and TooLarge leave the `begin()` block by exception, which rolls everything back.
    settled = settle(incoming, stored, now)
    if settled is not None:
        _settle_intent(connection, incoming, BackupState.DELETING, None)
        outcome, existing = settled
        answer = Committed(existing, outcome, [], dropped=replace(incoming, state=BackupState.DELETING))
        return replace(answer, seq=events.append_now(connection, commit_events(answer, now)))
    plan = plan_commit(
        stored=stored,
        incoming_id=backup.id,
        incoming_size=backup.size,
        incoming_at=incoming.uploaded_at,
        used_bytes=org.used_bytes,
        quota_override=org.quota_bytes,
        limits=limits,
        policy=policy_of(org.keep_last, org.keep_daily, org.keep_weekly, org.keep_monthly),
    )
    _settle_intent(connection, incoming, BackupState.DELETING if plan.superseded else BackupState.STORED, now)
    if plan.victims:
        connection.execute(
            update(BACKUPS)
            .where(BACKUPS.c.id.in_([v.id for v in plan.victims]))
            .values(state=BackupState.DELETING.value)
        )
    connection.execute(_SET_USED, {"org": backup.org_id, "used": plan.used_after})
    done = replace(incoming, state=BackupState.STORED, committed_at=now)
    committed = Committed(done, Outcome.STORED, pruned(plan, done), rules=plan.rules)
    alerts = (
        [] if plan.superseded else _alerts(done, stored, org.used_bytes, plan.used_after, org.quota_bytes, limits, now)
    )
    # Last: the log's head is locked from here to COMMIT only (see adapters.sql.events).
    logged = events.append_now(connection, [*commit_events(committed, now), *alerts])
    return replace(committed, seq=logged)


def _insert_intent(connection: Connection, values: dict[str, Any]) -> None:
    connection.execute(insert(BACKUPS), values)


def _delete_finished(connection: Connection, backup_ids: list[str]) -> None:
    connection.execute(
        delete(BACKUPS).where(BACKUPS.c.id.in_(backup_ids), BACKUPS.c.state == BackupState.DELETING.value)
    )


def _settle_intent(connection: Connection, incoming: Backup, state: BackupState, now: datetime | None) -> None:
    """Give the intent its final size, digest and state, or raise (rolling back) when a racing abort or
    the reaper took it meanwhile."""
    result = connection.execute(
        update(BACKUPS)
        .where(BACKUPS.c.id == incoming.id, BACKUPS.c.state == BackupState.UPLOADING.value)
        .values(size=incoming.size, sha256=incoming.sha256, state=state.value, committed_at=now)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise CatalogUnavailable(f"no upload intent {incoming.id} to commit")


def _alerts(
    done: Backup,
    stored: list[Backup],
    used_before: int,
    used_after: int,
    quota_bytes: int | None,
    limits: Limits,
    now: datetime,
) -> list[NewEvent]:
    return commit_alerts(
        backup=done,
        previous=stored,
        ratio=limits.size_anomaly_ratio,
        used_before=used_before,
        used_after=used_after,
        quota=quota.effective_quota(quota_bytes, limits.max_size_per_org),
        at=now,
    )
