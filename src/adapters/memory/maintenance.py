"""In-memory MaintenanceCatalog over an InMemoryBackupCatalog's rows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from adapters.memory.catalog import InMemoryBackupCatalog
from domain.model import Backup, BackupState


class InMemoryMaintenanceCatalog:
    def __init__(self, catalog: InMemoryBackupCatalog, org_ids: Sequence[str] | None = None) -> None:
        self._catalog = catalog
        self._org_ids = org_ids
        self._leases: dict[str, asyncio.Lock] = {}

    async def all_backups(self) -> list[Backup]:
        return sorted(self._catalog.rows.values(), key=lambda b: b.id)

    async def recorded_usage(self) -> dict[str, int]:
        orgs = self._org_ids if self._org_ids is not None else list(self._catalog.used)
        return {org_id: self._catalog.used.get(org_id, 0) for org_id in orgs}

    async def set_usage(self, org_id: str, used_bytes: int) -> None:
        self._catalog.used[org_id] = used_bytes

    async def forget(self, backup_ids: Sequence[str]) -> None:
        for backup_id in backup_ids:
            row = self._catalog.rows.pop(backup_id, None)
            if row is not None and row.state is BackupState.STORED:
                self._catalog.used[row.org_id] = self._catalog.used.get(row.org_id, 0) - row.size

    @asynccontextmanager
    async def lease(self, name: str) -> AsyncIterator[bool]:
        lock = self._leases.setdefault(name, asyncio.Lock())
        if lock.locked():
            yield False
            return
        async with lock:
            yield True
