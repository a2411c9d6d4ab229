"""The BackupCatalog port on SQLAlchemy: the queries and operator deletions over the commit path (`commit.py`)."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql import events
from adapters.sql.engine import guarded
from adapters.sql.models import BackupRow, OrganizationRow, SystemRow
from adapters.sql.protection import SqlRetentionOps
from domain.entries import deleted
from domain.errors import NotFound, Protected
from domain.events import Actor, Via
from domain.ledger import check_unprotected
from domain.model import Backup, BackupState
from domain.ports import OrgUsage


class SqlBackupCatalog(SqlRetentionOps):
    """Backup metadata in `backups`, usage in `organizations.used_bytes`: the commit path
    (`SqlCommitPath`, `commit.py`), protection and `retention apply` (`protection.py`), and the queries and
    operator deletions here.

    Deletions serialise on the organization's row, as commits do. Every method raises CatalogUnavailable
    when the database cannot be reached.
    """

    async def org_usage(self, org_id: str) -> OrgUsage:
        """Committed bytes and quota override of an organization.

        Raises:
            NotFound: No organization has this id.
        """
        async with guarded(), self._sessions() as session:
            org = await session.get(OrganizationRow, org_id)
        if org is None:
            raise NotFound(f"organization {org_id} not found")
        return OrgUsage(org.used_bytes, org.quota_bytes, org.retention)

    async def stored_backups(self, system_id: str) -> list[Backup]:
        """The system's stored backups, oldest (lowest UUIDv7) first."""
        async with guarded(), self._sessions() as session:
            return await _stored(session, system_id)

    async def get_backup(self, system_id: str, backup_id: str) -> Backup | None:
        """The system's stored backup with this id, else None."""
        async with guarded(), self._sessions() as session:
            row = await session.scalar(_stored_row(system_id, backup_id))
        return None if row is None else row.to_domain()

    async def begin_deletion(
        self, system_id: str, backup_id: str, by: Actor = Actor.APPLIANCE, via: Via | None = None
    ) -> Backup | None:
        """Mark the stored backup *deleting*, uncount its bytes and log `backup.deleted`, serialised on its
        org's row."""
        async with guarded(), self._sessions.begin() as session:
            row = await session.scalar(_stored_row(system_id, backup_id))
            if row is None:
                return None
            org = await _locked_org(session, row.org_id)
            # Read again under the org lock: a racing delete or prune may have taken it meanwhile.
            row = await session.scalar(_stored_row(system_id, backup_id).with_for_update())
            if row is None:
                return None
            if row.protected:
                raise Protected(f"backup {backup_id} is protected; unprotect it first", backup_id)
            row.state = BackupState.DELETING.value
            if org is not None:
                org.used_bytes -= row.size
            gone = row.to_domain()
            await session.flush()
            await events.append(await session.connection(), [deleted(gone, self._clock.now(), by, via)])
            return gone

    async def begin_system_deletion(
        self, system_id: str, via: Via | None = None, include_protected: bool = False
    ) -> list[Backup]:
        """Mark every row of the system *deleting*, uncount the stored ones and log `backup.deleted` for
        each of those (by an operator), in one transaction; raise Protected while one is protected, unless
        `include_protected`."""
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
            check_unprotected(
                [row.to_domain() for row in rows if row.state == BackupState.STORED.value], include_protected
            )
            freed = sum(row.size for row in rows if row.state == BackupState.STORED.value)
            now = self._clock.now()
            stored = [row.to_domain() for row in rows if row.state == BackupState.STORED.value]
            gone = [deleted(backup, now, Actor.OPERATOR, via) for backup in stored]
            for row in rows:
                row.state = BackupState.DELETING.value
            if org is not None:
                org.used_bytes -= freed
            await session.flush()
            await events.append(await session.connection(), gone)
            return [row.to_domain() for row in rows]

    async def ping(self) -> None:
        """Raise CatalogUnavailable unless the database answers a trivial query."""
        async with guarded(), self._sessions() as session:
            await session.execute(select(1))


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
