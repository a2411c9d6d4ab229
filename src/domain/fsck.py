"""fsck: compare the ledger with the store, report every violation, and repair what is safe."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from domain.events import EventType
from domain.maintenance import GRACE, QUARANTINE, MaintenanceCatalog, Problem, Quarantine, usage_drift
from domain.model import Backup, BackupState
from domain.ports import Clock, EventLog, ObjectStore, StoredObject


@dataclass(slots=True)
class FsckReport:
    problems: list[Problem] = field(default_factory=list)
    repaired: list[Problem] = field(default_factory=list)
    unrepaired: int = 0

    @property
    def ok(self) -> bool:
        """Nothing is left wrong: no problem found, or every one repaired."""
        return self.unrepaired == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Fsck:
    """Safe while servers run: rows and objects younger than GRACE are left alone. Repairs never destroy
    what might be wanted: orphans and mismatched objects move under `quarantine/`."""

    catalog: MaintenanceCatalog
    objects: ObjectStore
    clock: Clock
    events: EventLog | None = None
    """The event log, checked against the rows (kinds `unlogged_backup`, `unlogged_removal`)."""

    async def __call__(self, *, repair: bool = False, verify_checksums: bool = False) -> FsckReport:
        report = FsckReport()
        cutoff = self.clock.now() - GRACE
        rows = await self.catalog.all_backups()
        stored = {o.key: o async for o in self.objects.list("") if not o.key.startswith(QUARANTINE)}
        by_key = {row.object_key: row for row in rows}
        for key, obj in sorted(stored.items()):
            if key not in by_key and (obj.modified is None or obj.modified < cutoff):
                await self._handle(report, Problem("orphan_object", key, f"{obj.size} bytes, no row"), repair)
        for row in rows:
            await self._check_row(report, row, stored.get(row.object_key), cutoff, repair, verify_checksums)
        for key in await self.objects.abandoned(cutoff):
            await self._handle(report, Problem("stale_upload", key, "temporary file of an interrupted write"), repair)
        if self.events is not None:
            for problem in await log_problems(self.events, rows, cutoff):
                report.problems.append(problem)
                report.unrepaired += 1  # history cannot be repaired, only reported
        rows = await self.catalog.all_backups() if repair else rows
        for problem in usage_drift(rows, await self.catalog.recorded_usage()):
            await self._handle(report, problem, repair)
        return report

    async def _check_row(
        self, report: FsckReport, row: Backup, obj: StoredObject | None, cutoff: datetime, repair: bool, verify: bool
    ) -> None:
        key = row.object_key
        if row.state is BackupState.UPLOADING:
            if row.last_heard < cutoff:
                await self._handle(report, Problem("stale_upload", key, f"intent since {row.last_heard}"), repair)
            return
        if row.state is not BackupState.STORED:
            return  # being deleted: the reaper finishes it
        if obj is None:
            await self._handle(report, Problem("missing_object", key, f"row {row.id} has no object"), repair)
        elif obj.size != row.size:
            detail = f"row says {row.size} bytes, object has {obj.size}"
            await self._handle(report, Problem("size_mismatch", key, detail), repair)
        elif verify and (digest := await self._sha256(key)) != row.sha256:
            detail = f"row says sha256 {row.sha256}, object has {digest}"
            await self._handle(report, Problem("checksum_mismatch", key, detail), repair)

    async def _sha256(self, key: str) -> str:
        hasher = hashlib.sha256()
        async for chunk in (await self.objects.get(key)).chunks:
            hasher.update(chunk)
        return hasher.hexdigest()

    async def _handle(self, report: FsckReport, problem: Problem, repair: bool) -> None:
        report.problems.append(problem)
        if not repair:
            report.unrepaired += 1
            return
        report.repaired.append(await self._repair(problem))

    async def _repair(self, problem: Problem) -> Problem:
        key = problem.key
        if problem.kind == "usage_drift":
            rows = await self.catalog.all_backups()
            actual = sum(r.size for r in rows if r.org_id == key and r.state is BackupState.STORED)
            await self.catalog.set_usage(key, actual)
            return Problem(problem.kind, key, f"counter set to {actual} bytes")
        if problem.kind == "orphan_object":
            await self.objects.move(key, QUARANTINE + key)
            return Problem(problem.kind, key, f"moved to {QUARANTINE}{key}")
        if problem.kind == "stale_upload":
            await self.objects.delete(key)
            await self._forget_key(key)
            return Problem(problem.kind, key, "removed")
        if problem.kind == "missing_object":
            await self._forget_key(key, Quarantine(problem.kind, None, self.clock.now()))
            return Problem(problem.kind, key, "row removed")
        # size or checksum mismatch: keep the bytes aside, drop the row that no longer describes them
        await self.objects.move(key, QUARANTINE + key)
        await self._forget_key(key, Quarantine(problem.kind, QUARANTINE + key, self.clock.now()))
        return Problem(problem.kind, key, f"row removed, object moved to {QUARANTINE}{key}")

    async def _forget_key(self, key: str, quarantined: Quarantine | None = None) -> None:
        rows = await self.catalog.all_backups()
        await self.catalog.forget([row.id for row in rows if row.object_key == key], quarantined)


async def log_problems(events: EventLog, rows: list[Backup], cutoff: datetime) -> list[Problem]:
    """A stored backup committed since the log began with no `backup.stored` entry, and a `backup.stored`
    entry whose backup is gone with no `backup.pruned`, `backup.deleted` or `backup.quarantined` entry.
    Rows younger than `cutoff` are left alone, as everywhere in fsck."""
    logged: dict[str, str] = {}
    removed: set[str] = set()
    began = None
    after = -1
    while page := await events.events_after(after, 1000):
        began = began or page[0].at
        for event in page:
            if event.backup_id is not None and event.type is EventType.BACKUP_STORED:
                logged[event.backup_id] = event.system_key or ""
            elif event.backup_id is not None and event.type in _REMOVALS:
                removed.add(event.backup_id)
        after = page[-1].seq
    present = {row.id for row in rows}
    problems = [
        Problem("unlogged_backup", row.object_key, f"stored backup {row.id} has no backup.stored entry")
        for row in rows
        if row.state is BackupState.STORED
        and row.id not in logged
        and began is not None
        and row.committed_at is not None
        and began <= row.committed_at < cutoff
    ]
    problems += [
        Problem("unlogged_removal", f"{system_key}/{backup_id}", "gone without backup.pruned or backup.deleted")
        for backup_id, system_key in logged.items()
        if backup_id not in present and backup_id not in removed
    ]
    return problems


_REMOVALS = frozenset({EventType.BACKUP_PRUNED, EventType.BACKUP_DELETED, EventType.BACKUP_QUARANTINED})
