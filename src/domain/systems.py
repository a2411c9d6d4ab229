"""Operator use cases on systems: list them, show one, find the ones that stopped uploading."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from domain.durations import parse_duration
from domain.errors import InvalidInput, NotFound
from domain.model import BackupStats, Limits, SystemIdentity, SystemRecord
from domain.ports import BackupCatalog, Clock, SystemDirectory

_NONE = BackupStats(count=0, total_size=0, last_backup_at=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemSummary:
    """One row of `system list`. Field names are the JSON keys of SPEC."""

    system_key: str
    org_id: str
    suspended: bool
    backups: int
    total_size: int
    last_backup_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemDetail:
    """`system show`: a `system list` row plus the system's caps."""

    system_key: str
    org_id: str
    suspended: bool
    backups: int
    total_size: int
    last_backup_at: datetime | None
    max_count: int
    max_total_size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StaleSystem:
    """A system whose newest backup is older than asked; `last_backup_at` None if it never uploaded."""

    system_key: str
    org_id: str
    last_backup_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemAdmin:
    """Lets an operator see systems, their backups at a glance, and which went quiet."""

    directory: SystemDirectory
    catalog: BackupCatalog
    clock: Clock
    limits: Limits

    async def identity(self, system_key: str) -> SystemIdentity:
        """The identity an operator acts for. Raises NotFound for an unknown key."""
        return (await self._record(system_key)).identity

    async def list_systems(self, org_id: str | None = None) -> list[SystemSummary]:
        """Every system, or those of one organization (NotFound when it does not exist)."""
        if org_id is not None and await self.directory.get_org(org_id) is None:
            raise NotFound(f"organization {org_id} not found")
        stats = await self.catalog.backup_stats(org_id)
        return [_summary(r, stats.get(r.identity.system_id, _NONE)) for r in await self.directory.list_systems(org_id)]

    async def show(self, system_key: str) -> SystemDetail:
        """Raises NotFound for an unknown key."""
        record = await self._record(system_key)
        stats = (await self.catalog.backup_stats(record.identity.org_id)).get(record.identity.system_id, _NONE)
        summary = _summary(record, stats)
        return SystemDetail(
            **{f.name: getattr(summary, f.name) for f in fields(summary)},
            max_count=self.limits.max_per_system,
            max_total_size=self.limits.max_size_per_system,
        )

    async def stale(self, older_than: str | timedelta) -> list[StaleSystem]:
        """Systems whose newest stored backup was uploaded before now minus `older_than` (`36h`, `2d`…), and
        systems that never uploaded; never-uploaded first, then oldest first.

        Raises:
            InvalidInput: `older_than` is not a duration.
        """
        cutoff = self.clock.now() - _duration(older_than)
        stats = await self.catalog.backup_stats()
        found = []
        for record in await self.directory.list_systems():
            who = record.identity
            last = stats.get(who.system_id, _NONE).last_backup_at
            if last is None or last < cutoff:
                found.append(StaleSystem(system_key=who.system_key, org_id=who.org_id, last_backup_at=last))
        return sorted(found, key=lambda s: (s.last_backup_at is not None, s.last_backup_at or cutoff, s.system_key))

    async def _record(self, system_key: str) -> SystemRecord:
        record = await self.directory.get_system(system_key)
        if record is None:
            raise NotFound(f"system {system_key} not found")
        return record


def _duration(value: str | timedelta) -> timedelta:
    if isinstance(value, timedelta):
        return value
    try:
        return parse_duration(value)
    except ValueError as error:
        raise InvalidInput("older_than", str(error), value) from None


def _summary(record: SystemRecord, stats: BackupStats) -> SystemSummary:
    return SystemSummary(
        system_key=record.identity.system_key,
        org_id=record.identity.org_id,
        suspended=record.suspended,
        backups=stats.count,
        total_size=stats.total_size,
        last_backup_at=stats.last_backup_at,
    )
