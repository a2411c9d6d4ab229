"""The reaper: finishes what crashes and store failures left half-done. The serve process runs it as a
background worker (`app.workers`), under a lease: one pass at a time, cluster-wide."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from domain.errors import DomainError
from domain.maintenance import GRACE, MaintenanceCatalog
from domain.model import BackupState
from domain.ports import Clock, ObjectStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReaperPass:
    deleted: int = 0
    stale: int = 0

    def __bool__(self) -> bool:
        return bool(self.deleted or self.stale)

    def __str__(self) -> str:
        return f"finished {self.deleted} deletions and removed {self.stale} stale uploads"


@dataclass(frozen=True, slots=True, kw_only=True)
class Reaper:
    """Rows left *deleting* (their objects, then the rows) and *uploading* intents older than GRACE
    (their objects and leftover temp files, then the rows). Store errors leave work for the next pass."""

    catalog: MaintenanceCatalog
    objects: ObjectStore
    clock: Clock
    grace: timedelta = GRACE
    """How long an intent may stay silent (no heartbeat) before it counts as abandoned."""

    async def __call__(self) -> ReaperPass:
        cutoff = self.clock.now() - self.grace
        rows = await self.catalog.all_backups()
        deleting = [r for r in rows if r.state is BackupState.DELETING]
        stale = [r for r in rows if r.state is BackupState.UPLOADING and r.last_heard < cutoff]
        done: list[str] = []
        for row in [*deleting, *stale]:
            try:
                await self.objects.delete(row.object_key)
            except DomainError as exc:
                log.warning("reaper could not erase %s: %s", row.object_key, exc)
                continue
            done.append(row.id)
        for key in await self.objects.abandoned(cutoff):
            await self.objects.delete(key)
        await self.catalog.forget(done)
        return ReaperPass(deleted=sum(r.id in done for r in deleting), stale=sum(r.id in done for r in stale))
