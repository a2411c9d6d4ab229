"""Retention outside the commit, on SQLAlchemy: protecting backups and applying a policy now."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sql import events
from adapters.sql.commit import SqlCommitPath
from adapters.sql.engine import guarded
from adapters.sql.models import BackupRow, OrganizationRow, SystemRow
from domain.entries import protection, pruned_by_policy
from domain.events import Via
from domain.ledger import Pruned, check_room, plan_apply
from domain.model import Backup, BackupState, Limits


class SqlRetentionOps(SqlCommitPath):
    """Protection and `retention apply`, each one transaction serialised on the organization's row."""

    async def set_protection(
        self,
        system_id: str,
        backup_id: str,
        note: str | None,
        *,
        protected: bool,
        max_protected: int,
        via: Via | None = None,
    ) -> Backup | None:
        """Protect or unprotect the system's stored backup, logging `backup.protected` or
        `backup.unprotected` (by an operator through `via`) in the same transaction.

        Raises:
            Protected: Protecting it would pass `max_protected`; nothing changed.
        """
        async with guarded(), self._sessions.begin() as session:
            system = await session.get(SystemRow, system_id)
            if system is None:
                return None
            await _lock_org(session, system.org_id)
            rows = list(await session.scalars(_stored_rows(system_id).with_for_update()))
            row = next((r for r in rows if r.id == backup_id), None)
            if row is None:
                return None
            check_room([r.to_domain() for r in rows], row.to_domain(), protected, max_protected)
            row.protected = protected
            row.protected_note = note if protected else None
            changed = row.to_domain()
            await session.flush()
            await events.append(await session.connection(), [protection(changed, self._clock.now(), via)])
            return changed

    async def apply_retention(self, system_id: str, limits: Limits) -> Pruned:
        """Prune what the policy in force keeps no more, as a commit would (rows *deleting*, bytes
        uncounted, a `backup.pruned` with its rule each); the caller erases the objects."""
        async with guarded(), self._sessions.begin() as session:
            system = await session.get(SystemRow, system_id)
            if system is None:
                return Pruned([])
            org = await _lock_org(session, system.org_id)
            if org is None:
                return Pruned([])
            rows = list(await session.scalars(_stored_rows(system_id).with_for_update()))
            rules = plan_apply([r.to_domain() for r in rows], limits, org.retention)
            pruned = [r for r in rows if r.id in rules]
            for row in pruned:
                row.state = BackupState.DELETING.value
            org.used_bytes -= sum(row.size for row in pruned)
            done = Pruned([row.to_domain() for row in pruned], rules)
            await session.flush()
            await events.append(await session.connection(), pruned_by_policy(done, self._clock.now()))
            return done


def _stored_rows(system_id: str) -> Select[BackupRow]:
    return (
        select(BackupRow)
        .where(BackupRow.system_id == system_id, BackupRow.state == BackupState.STORED.value)
        .order_by(BackupRow.id)
    )


async def _lock_org(session: AsyncSession, org_id: str) -> OrganizationRow | None:
    """Take the org's row lock, the one every commit of the org queues on."""
    return await session.scalar(select(OrganizationRow).where(OrganizationRow.id == org_id).with_for_update())
