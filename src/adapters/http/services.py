"""What the HTTP adapter needs from the composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from adapters.http.drain import Drain
from adapters.http.metrics import Metrics
from domain.destroy import DestroySystem
from domain.ingest import IngestBackup
from domain.organizations import OrgAdmin
from domain.ports import BackupCatalog, ObjectStore, SystemDirectory
from domain.registry import Registry
from domain.restore import BackupAccess
from domain.systems import SystemAdmin


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiServices:
    directory: SystemDirectory
    catalog: BackupCatalog
    objects: ObjectStore
    ingest: IngestBackup
    access: BackupAccess
    """An appliance's access to its own backups (append-only mode applies)."""
    operator_access: BackupAccess
    """An operator's access to any system's backups (append-only mode binds appliances only)."""
    registry: Registry
    orgs: OrgAdmin
    systems: SystemAdmin
    destroy: DestroySystem
    drain: Drain = field(default_factory=Drain)
    metrics: Metrics = field(default_factory=Metrics)
    metrics_token: str | None = None
    """Bearer token of `/metrics`; None leaves it open."""
    stale_systems: Callable[[], Awaitable[int]] = field(default=lambda: _none())


async def _none() -> int:
    return 0
