"""Operator use cases of retention: preview a policy, apply the policies in force now, protect backups."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace

from domain.errors import InvalidInput, NotFound
from domain.events import Via
from domain.ingest import prune
from domain.model import Backup, Limits, RetentionPolicy, SystemIdentity
from domain.ports import BackupCatalog, ObjectStore, SystemDirectory
from domain.restore import check_backup_id
from domain.retention import PruneRule, Slot, check_policy, select

log = logging.getLogger(__name__)
TIERS = ("keep_last", "keep_daily", "keep_weekly", "keep_monthly")


@dataclass(frozen=True, slots=True)
class Kept:
    """One stored backup and what keeps it (`last`, `daily 2026-12-03`, …, `protected`; None: pruned)."""

    backup: Backup
    kept_by: str | None


@dataclass(frozen=True, slots=True)
class Preview:
    """What `policy` would keep of a system's stored backups, newest first. Nothing changes."""

    system_key: str
    policy: RetentionPolicy
    backups: list[Kept]


@dataclass(frozen=True, slots=True)
class PrunedBackup:
    """One backup `retention apply` pruned, and the rule that dropped it."""

    system_key: str
    id: str
    rule: PruneRule


@dataclass(frozen=True, slots=True)
class Applied:
    pruned: list[PrunedBackup]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionAdmin:
    """Lets an operator see and apply what retention keeps, and pin backups it must never prune."""

    directory: SystemDirectory
    catalog: BackupCatalog
    objects: ObjectStore
    limits: Limits

    async def preview(self, system_key: str, changes: Mapping[str, int] | None = None) -> Preview:
        """What the policy in force, with `changes` (`keep_daily`: 7, …) over it, would keep.

        Raises:
            InvalidInput: key `retention`, a policy the service cannot hold.
            NotFound: An unknown system.
        """
        who = await self._identity(system_key)
        org = await self.directory.get_org(who.org_id)
        policy = self.limits.policy_for(None if org is None else org.retention)
        if changes:
            policy = check_policy(replace(policy, **dict(changes)), self.limits.max_per_system)
        stored = await self.catalog.stored_backups(who.system_id)
        kept = select([Slot.of(b) for b in stored], policy).kept
        return Preview(system_key, policy, [Kept(b, kept.get(b.id)) for b in reversed(stored)])

    async def apply(self, org_id: str | None = None) -> Applied:
        """Apply the policy in force to every system (of one organization) now, as a commit would;
        the pruned objects are erased (a failure leaves them to the reaper).

        Raises:
            NotFound: An unknown organization.
        """
        if org_id is not None and await self.directory.get_org(org_id) is None:
            raise NotFound(f"organization {org_id} not found")
        done: list[PrunedBackup] = []
        for record in await self.directory.list_systems(org_id):
            who = record.identity
            result = await self.catalog.apply_retention(who.system_id, self.limits)
            if not result.pruned:
                continue
            for backup in result.pruned:
                rule = result.rules[backup.id]
                log.info("retention pruned %s of %s (rule %s)", backup.id, who.system_key, rule)
                done.append(PrunedBackup(who.system_key, backup.id, rule))
            await prune(self.catalog, self.objects, result.pruned)
        return Applied(done)

    async def protect(self, system_key: str, backup_id: str, note: str | None = None, via: Via | None = None) -> Backup:
        """Never prune nor delete the backup until it is unprotected.

        Raises:
            InvalidInput: `backup_id` is not a backup id.
            InvalidInput: key `note`, a note past MAX_NOTE characters or with a control character.
            NotFound: An unknown system or backup.
            Protected: The system has BACKUP_MAX_PROTECTED_PER_SYSTEM protected backups already.
        """
        return await self._protection(system_key, backup_id, check_note(note), via, protected=True)

    async def unprotect(self, system_key: str, backup_id: str, via: Via | None = None) -> Backup:
        """Let retention and deletes take the backup again (at the next commit, or `retention apply`)."""
        return await self._protection(system_key, backup_id, None, via, protected=False)

    async def _protection(
        self, system_key: str, backup_id: str, note: str | None, via: Via | None, *, protected: bool
    ) -> Backup:
        who = await self._identity(system_key)
        check_backup_id(backup_id)
        changed = await self.catalog.set_protection(
            who.system_id,
            backup_id,
            note,
            protected=protected,
            max_protected=self.limits.max_protected_per_system,
            via=via,
        )
        if changed is None:
            raise NotFound(f"backup {backup_id} not found")
        return changed

    async def _identity(self, system_key: str) -> SystemIdentity:
        record = await self.directory.get_system(system_key)
        if record is None:
            raise NotFound(f"system {system_key} not found")
        return record.identity


MAX_NOTE = 500


def check_note(note: str | None) -> str | None:
    """A protection's note: at most MAX_NOTE printable characters (a NUL would not even reach PostgreSQL)."""
    if note is None:
        return None
    if len(note) > MAX_NOTE:
        raise InvalidInput("note", f"at most {MAX_NOTE} characters", note[:100])
    if not note.isprintable():
        raise InvalidInput("note", "only printable characters", note.encode("unicode_escape").decode()[:100])
    return note
