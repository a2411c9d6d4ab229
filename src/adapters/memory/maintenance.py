"""In-memory MaintenanceCatalog over the in-memory tables."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime

from adapters.memory.tables import Tables
from domain import entries
from domain.maintenance import Quarantine
from domain.model import Backup, BackupState


class InMemoryMaintenanceCatalog:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def all_backups(self) -> list[Backup]:
        return sorted(self.tables.backups.values(), key=lambda b: b.id)

    async def recorded_usage(self) -> dict[str, int]:
        return {org_id: self.tables.used.get(org_id, 0) for org_id in self.tables.orgs}

    async def set_usage(self, org_id: str, used_bytes: int) -> None:
        if org_id in self.tables.orgs:
            self.tables.used[org_id] = used_bytes

    async def forget(self, backup_ids: Sequence[str], quarantined: Quarantine | None = None) -> None:
        used = self.tables.used
        for backup_id in backup_ids:
            row = self.tables.backups.pop(backup_id, None)
            if row is not None and row.state is BackupState.STORED:
                used[row.org_id] = used.get(row.org_id, 0) - row.size
                if quarantined is not None:
                    q = quarantined
                    self.tables.append_events([entries.quarantined(row, q.at, q.reason, q.moved_to)])

    async def due_for_verification(
        self, verified_before: datetime, limit: int, system_id: str | None = None
    ) -> list[Backup]:
        due = [
            b
            for b in self.tables.backups.values()
            if b.state is BackupState.STORED
            and (system_id is None or b.system_id == system_id)
            and (b.verified_at is None or b.verified_at < verified_before)
        ]
        due.sort(key=lambda b: (b.verified_at is not None, b.verified_at or b.uploaded_at, b.id))
        return due[:limit]

    async def record_verification(self, backup: Backup, result: str, at: datetime) -> None:
        row = self.tables.backups.get(backup.id)
        if row is None or row.state is not BackupState.STORED:
            return
        self.tables.backups[backup.id] = replace(row, verified_at=at, verify_state=result)
        self.tables.append_events([entries.verified(row, at, result)])

    async def count_unverified(self, verified_before: datetime) -> int:
        return len(await self.due_for_verification(verified_before, len(self.tables.backups) + 1))

    @asynccontextmanager
    async def lease(self, name: str) -> AsyncIterator[bool]:
        lock = self.tables.leases.setdefault(name, asyncio.Lock())
        if lock.locked():
            yield False
            return
        async with lock:
            yield True
