"""What fsck and the reaper need from the ledger, and the invariants they (and the tests) check."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from domain.model import Backup, BackupState, Limits

# Anything younger than this may belong to an upload or a prune in flight: fsck and the reaper leave it alone.
GRACE = timedelta(hours=1)
QUARANTINE = "quarantine/"


@dataclass(frozen=True, slots=True)
class Problem:
    """One violation (or one repair): `kind` is one of SPEC's fsck kinds, `key` an object key or org id."""

    kind: str
    key: str
    detail: str


@dataclass(frozen=True, slots=True)
class Quarantine:
    """Why fsck removed a stored backup's row (a Problem kind), where its bytes went (None: there were
    none), and when."""

    reason: str
    moved_to: str | None
    at: datetime


class VerificationLedger(Protocol):
    """The catalog's side of scrubbing. Raises CatalogUnavailable when the database fails."""

    async def due_for_verification(
        self, verified_before: datetime, limit: int, system_id: str | None = None
    ) -> list[Backup]:
        """Up to `limit` stored backups never verified or last verified before `verified_before`, never
        verified first, then least recently verified (of one system, when given)."""
        ...

    async def record_verification(self, backup: Backup, result: str, at: datetime) -> None:
        """Set the backup's `verified_at` and `verify_state` and log `backup.verified` (detail `result`),
        in one transaction; a backup gone meanwhile is left alone."""
        ...

    async def count_unverified(self, verified_before: datetime) -> int:
        """Stored backups not verified since `verified_before`."""
        ...


class MaintenanceCatalog(VerificationLedger, Protocol):
    """The ledger seen whole, for verification and repair. Raises CatalogUnavailable like BackupCatalog."""

    async def all_backups(self) -> list[Backup]:
        """Every row, whatever its state."""
        ...

    async def recorded_usage(self) -> dict[str, int]:
        """Each organization's committed-bytes counter, by org id (every org, zero included)."""
        ...

    async def set_usage(self, org_id: str, used_bytes: int) -> None: ...

    async def forget(self, backup_ids: Sequence[str], quarantined: Quarantine | None = None) -> None:
        """Remove rows in any state; a stored row's bytes leave its organization's counter. With
        `quarantined`, each stored row removed is logged `backup.quarantined` (in the same transaction)."""
        ...

    def lease(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Single-flight across replicas: yields True for the one holder, False for the others."""
        ...


def usage_drift(rows: Iterable[Backup], recorded: Mapping[str, int]) -> list[Problem]:
    """Counters that differ from the sum of their organization's stored sizes."""
    actual = stored_bytes_by_org(rows)
    return [
        Problem("usage_drift", org_id, f"counter says {used} bytes, stored backups sum to {actual.get(org_id, 0)}")
        for org_id, used in sorted(recorded.items())
        if used != actual.get(org_id, 0)
    ]


def stored_bytes_by_org(rows: Iterable[Backup]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        if row.state is BackupState.STORED:
            totals[row.org_id] += row.size
    return dict(totals)


def cap_violations(rows: Iterable[Backup], limits: Limits, quotas: Mapping[str, int]) -> list[str]:
    """Per system: unprotected count ≤ slot cap and bytes ≤ size cap; per org: bytes ≤ its effective quota
    (0 = none). Protected backups are outside the slot count, inside the size cap and the quota."""
    count: dict[str, int] = defaultdict(int)
    size: dict[str, int] = defaultdict(int)
    stored = [row for row in rows if row.state is BackupState.STORED]
    for row in stored:
        count[row.system_id] += 0 if row.protected else 1
        size[row.system_id] += row.size
    found = [f"system {s} keeps {n} backups" for s, n in count.items() if n > limits.max_per_system]
    found += [f"system {s} keeps {n} bytes" for s, n in size.items() if n > limits.max_size_per_system]
    for org_id, used in stored_bytes_by_org(stored).items():
        quota = quotas.get(org_id, limits.max_size_per_org)
        if quota and used > quota:
            found.append(f"organization {org_id} stores {used} bytes over its quota {quota}")
    return found
