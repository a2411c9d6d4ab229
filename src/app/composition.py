"""The composition root: builds every adapter from the settings and wires the use cases."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.http.metrics import Metrics
from adapters.memory.clock import SystemClock, Uuid7Factory
from adapters.objectstore.urls import objects_from_url
from adapters.ratelimit.limits_adapter import LimitsRateLimiter
from adapters.sql.catalog import SqlBackupCatalog
from adapters.sql.directory import SqlSystemDirectory
from adapters.sql.engine import make_engine
from adapters.sql.maintenance import SqlMaintenanceCatalog
from adapters.sql.migrate import upgrade
from app.settings import Settings
from domain.destroy import DestroySystem
from domain.fsck import Fsck
from domain.ingest import IngestBackup
from domain.maintenance import MaintenanceCatalog
from domain.organizations import OrgAdmin
from domain.ports import BackupCatalog, Clock, IdFactory, ObjectStore, RateLimiter, SystemDirectory
from domain.reaper import Reaper
from domain.registry import Registry
from domain.restore import BackupAccess
from domain.systems import SystemAdmin


@dataclass(kw_only=True)
class Overrides:
    """Pieces a test or a demo supplies instead of the ones the settings name."""

    directory: SystemDirectory | None = None
    catalog: BackupCatalog | None = None
    objects: ObjectStore | None = None
    limiter: RateLimiter | None = None
    clock: Clock | None = None
    ids: IdFactory | None = None
    engine: AsyncEngine | None = None
    """An engine the overriding adapters use; the container migrates and disposes it."""
    maintenance: MaintenanceCatalog | None = None


@dataclass(kw_only=True)
class Container:
    settings: Settings
    directory: SystemDirectory
    catalog: BackupCatalog
    objects: ObjectStore
    limiter: RateLimiter
    clock: Clock
    ids: IdFactory
    engine: AsyncEngine | None = None
    maintenance: MaintenanceCatalog | None = None
    """The whole ledger for fsck and the reaper; None when the ledger cannot be seen whole."""
    ingest: IngestBackup = field(init=False)
    metrics: Metrics = field(init=False)
    """This service's Prometheus registry (one per container: tests build many in one process)."""
    registry: Registry = field(init=False)
    access: BackupAccess = field(init=False)
    """Appliances' access to their own backups; BACKUP_APPEND_ONLY refuses their deletes."""
    operator_access: BackupAccess = field(init=False)
    """Operators' access (CLI, admin API): append-only mode binds appliances only."""
    orgs: OrgAdmin = field(init=False)
    systems: SystemAdmin = field(init=False)
    destroy: DestroySystem = field(init=False)
    fsck: Fsck | None = field(init=False)
    reaper: Reaper | None = field(init=False)

    def __post_init__(self) -> None:
        self.ingest = IngestBackup(
            catalog=self.catalog,
            objects=self.objects,
            limiter=self.limiter,
            clock=self.clock,
            ids=self.ids,
            limits=self.settings.limits,
        )
        self.registry = Registry(directory=self.directory, ids=self.ids)
        limiter = self.limiter
        # The limiter fails open, so no request sees a Redis failure: its own count feeds the metric.
        self.metrics = Metrics(
            rate_limit_failures=lambda: limiter.storage_failures if isinstance(limiter, LimitsRateLimiter) else 0
        )
        limits = self.settings.limits
        self.access = BackupAccess(
            catalog=self.catalog, objects=self.objects, limits=limits, append_only=self.settings.append_only
        )
        self.operator_access = BackupAccess(catalog=self.catalog, objects=self.objects, limits=limits)
        self.orgs = OrgAdmin(directory=self.directory, catalog=self.catalog, default_quota=limits.max_size_per_org)
        self.systems = SystemAdmin(directory=self.directory, catalog=self.catalog, clock=self.clock, limits=limits)
        self.destroy = DestroySystem(directory=self.directory, catalog=self.catalog, objects=self.objects)
        self.fsck = None
        self.reaper = None
        if self.maintenance is not None:
            self.fsck = Fsck(catalog=self.maintenance, objects=self.objects, clock=self.clock)
            self.reaper = Reaper(catalog=self.maintenance, objects=self.objects, clock=self.clock)

    async def stale_systems(self) -> int:
        """Systems silent for longer than BACKUP_STALE_AFTER, or never heard from."""
        return await self.catalog.count_stale_systems(self.clock.now() - self.settings.stale_after)

    async def start(self) -> None:
        """Bring the schema up to date (idempotent; serialised across replicas on PostgreSQL)."""
        if self.engine is not None:
            await upgrade(self.engine)

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
        close = getattr(self.limiter, "aclose", None)
        if close is not None:
            await close()


def build(settings: Settings, overrides: Overrides | None = None) -> Container:
    """Raises ValueError with a one-line reason when a URL cannot be served."""
    given = overrides or Overrides()
    clock = given.clock or SystemClock()
    engine = given.engine
    if engine is None and (given.directory is None or given.catalog is None):
        engine = make_engine(settings.database_url)
    directory = given.directory or SqlSystemDirectory(engine)  # type: ignore[arg-type]
    catalog = given.catalog or SqlBackupCatalog(engine)  # type: ignore[arg-type]
    return Container(
        settings=settings,
        directory=directory,
        catalog=catalog,
        objects=given.objects or objects_from_url(settings.storage_url),
        limiter=given.limiter
        or LimitsRateLimiter(
            settings.rate_limit_storage_url, settings.rate_limit_per_minute, settings.rate_limit_per_hour
        ),
        clock=clock,
        ids=given.ids or Uuid7Factory(),
        engine=engine,
        maintenance=given.maintenance or (SqlMaintenanceCatalog(engine) if engine is not None else None),
    )
