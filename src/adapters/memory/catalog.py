"""In-memory BackupCatalog: the same ledger semantics as the SQL one, serialised by a lock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace

from domain.errors import CatalogUnavailable, NotFound
from domain.ledger import plan_commit, pruned
from domain.model import Backup, BackupState, BackupStats, Limits, Organization
from domain.ports import OrgUsage


class InMemoryBackupCatalog:
    """`orgs` looks organizations up (shared with the in-memory directory)."""

    def __init__(self, orgs: Callable[[str], Organization | None]) -> None:
        self._orgs = orgs
        self.rows: dict[str, Backup] = {}
        self.used: dict[str, int] = {}
        self._lock = asyncio.Lock()

    async def org_usage(self, org_id: str) -> OrgUsage:
        org = self._orgs(org_id)
        if org is None:
            raise NotFound(f"organization {org_id} not found")
        return OrgUsage(used_bytes=self.used.get(org_id, 0), quota_override=org.quota_bytes)

    async def stored_backups(self, system_id: str) -> list[Backup]:
        return sorted(
            (b for b in self.rows.values() if b.system_id == system_id and b.state is BackupState.STORED),
            key=lambda b: b.id,
        )

    async def begin_upload(self, intent: Backup) -> None:
        self.rows[intent.id] = replace(intent, state=BackupState.UPLOADING)

    async def commit_upload(self, backup: Backup, limits: Limits) -> list[Backup]:
        async with self._lock:
            if backup.id not in self.rows:
                raise CatalogUnavailable(f"intent {backup.id} vanished")
            usage = await self.org_usage(backup.org_id)
            plan = plan_commit(
                stored=await self.stored_backups(backup.system_id),
                incoming_id=backup.id,
                incoming_size=backup.size,
                used_bytes=usage.used_bytes,
                quota_override=usage.quota_override,
                limits=limits,
            )
            victims = pruned(plan, backup)
            self.rows[backup.id] = replace(backup, state=BackupState.STORED)
            for victim in victims:
                self.rows[victim.id] = victim
            self.used[backup.org_id] = plan.used_after
            return victims

    async def abort_upload(self, backup_id: str) -> None:
        row = self.rows.get(backup_id)
        if row is not None and row.state is BackupState.UPLOADING:
            del self.rows[backup_id]

    async def finish_deletion(self, backup_ids: Sequence[str]) -> None:
        for backup_id in backup_ids:
            row = self.rows.get(backup_id)
            if row is not None and row.state is BackupState.DELETING:
                del self.rows[backup_id]

    async def get_backup(self, system_id: str, backup_id: str) -> Backup | None:
        row = self.rows.get(backup_id)
        if row is None or row.system_id != system_id or row.state is not BackupState.STORED:
            return None
        return row

    async def begin_deletion(self, system_id: str, backup_id: str) -> Backup | None:
        async with self._lock:
            row = await self.get_backup(system_id, backup_id)
            if row is None:
                return None
            self.rows[backup_id] = replace(row, state=BackupState.DELETING)
            self.used[row.org_id] = self.used.get(row.org_id, 0) - row.size
            return self.rows[backup_id]

    async def begin_system_deletion(self, system_id: str) -> list[Backup]:
        async with self._lock:
            rows = sorted((b for b in self.rows.values() if b.system_id == system_id), key=lambda b: b.id)
            for row in rows:
                if row.state is BackupState.STORED:
                    self.used[row.org_id] = self.used.get(row.org_id, 0) - row.size
                self.rows[row.id] = replace(row, state=BackupState.DELETING)
            return [self.rows[row.id] for row in rows]

    async def backup_stats(self, org_id: str | None = None) -> dict[str, BackupStats]:
        stats: dict[str, BackupStats] = {}
        for row in self.rows.values():
            if row.state is not BackupState.STORED or (org_id is not None and row.org_id != org_id):
                continue
            seen = stats.get(row.system_id, BackupStats(count=0, total_size=0, last_backup_at=None))
            last = row.uploaded_at if seen.last_backup_at is None else max(seen.last_backup_at, row.uploaded_at)
            stats[row.system_id] = BackupStats(
                count=seen.count + 1, total_size=seen.total_size + row.size, last_backup_at=last
            )
        return stats

    async def ping(self) -> None:
        return None
