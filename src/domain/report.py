"""The report an auditor asks for: per system its state and what happened to its uploads over a window,
per organization its usage against its quota (CLI `report`, admin `GET /report`, the console's page)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import NotFound
from domain.events import EventQuery, EventType
from domain.health import LastError, SystemState
from domain.organizations import OrgAdmin
from domain.ports import Clock, EventLog, SystemHealth
from domain.systems import SystemAdmin

PAGE = 5000


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemLine:
    system_key: str
    org_id: str
    state: SystemState
    last_backup_at: datetime | None
    backups: int
    total_size: int
    stored: int
    """Uploads stored as new backups in the window."""
    duplicates: int
    """Uploads answered with a backup stored already (`200`) in the window."""
    refused: int
    """Uploads refused (400, 413, 422) in the window."""
    pruned: int
    """Backups retention removed in the window."""
    last_error: LastError | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgLine:
    id: str
    name: str
    used_bytes: int
    quota_bytes: int
    """The quota that applies; 0 when none does."""
    systems: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    since: datetime
    until: datetime
    orgs: list[OrgLine]
    systems: list[SystemLine]


@dataclass(frozen=True, slots=True, kw_only=True)
class Reports:
    systems: SystemAdmin
    orgs: OrgAdmin
    health: SystemHealth
    log: EventLog
    clock: Clock

    async def __call__(self, org_id: str | None = None, window: timedelta = timedelta(hours=24)) -> Report:
        """Raises NotFound for an unknown organization."""
        until = self.clock.now()
        since = until - window
        listed = await self.systems.list_systems(org_id)
        ids = {f.identity.system_key: f.identity.system_id for f in await self.health.facts(org_id)}
        refused = await self.health.refusals_since(since)
        counts = {kind: await self._count(kind, since) for kind in _COUNTED}
        orgs = [o for o in await self.orgs.list_orgs() if org_id is None or o.id == org_id]
        if org_id is not None and not orgs:
            raise NotFound(f"organization {org_id} not found")
        return Report(
            since=since,
            until=until,
            orgs=[
                OrgLine(
                    id=o.id,
                    name=o.name,
                    used_bytes=o.used_bytes,
                    quota_bytes=self.orgs.effective_quota(o.quota_bytes),
                    systems=o.systems,
                )
                for o in orgs
            ],
            systems=[
                SystemLine(
                    system_key=s.system_key,
                    org_id=s.org_id,
                    state=s.state,
                    last_backup_at=s.last_backup_at,
                    backups=s.backups,
                    total_size=s.total_size,
                    stored=counts[EventType.BACKUP_STORED][s.system_key],
                    duplicates=counts[EventType.BACKUP_DUPLICATE][s.system_key],
                    refused=refused.get(ids.get(s.system_key, ""), 0),
                    pruned=counts[EventType.BACKUP_PRUNED][s.system_key],
                    last_error=s.last_error,
                )
                for s in listed
            ],
        )

    async def _count(self, kind: EventType, since: datetime) -> Counter[str]:
        """Entries of `kind` since `since`, by system key, read a page at a time."""
        counted: Counter[str] = Counter()
        after = -1
        while page := await self.log.search(EventQuery(after=after, since=since, type=kind, limit=PAGE)):
            counted.update(e.system_key for e in page if e.system_key is not None)
            after = page[-1].seq
            if len(page) < PAGE:
                break
        return counted


_COUNTED = (EventType.BACKUP_STORED, EventType.BACKUP_DUPLICATE, EventType.BACKUP_PRUNED)
