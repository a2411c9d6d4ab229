"""The composition root: builds every adapter from the settings and wires the use cases."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.clock import SystemClock, Uuid7Factory
from adapters.objectstore.obstore_adapter import ObstoreObjectStore
from adapters.objectstore.urls import store_from_url
from adapters.ratelimit.limits_adapter import LimitsRateLimiter
from adapters.sql.catalog import SqlBackupCatalog
from adapters.sql.directory import SqlSystemDirectory
from adapters.sql.engine import make_engine
from adapters.sql.migrate import upgrade
from app.settings import Settings
from domain.ingest import IngestBackup
from domain.ports import BackupCatalog, Clock, IdFactory, ObjectStore, RateLimiter, SystemDirectory
from domain.registry import Registry


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
    ingest: IngestBackup = field(init=False)
    registry: Registry = field(init=False)

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

    async def start(self) -> None:
        """Bring the schema up to date (idempotent; serialised across replicas on PostgreSQL)."""
        if self.engine is not None:
            await upgrade(self.engine)

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()


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
        objects=given.objects or ObstoreObjectStore(store_from_url(settings.storage_url)),
        limiter=given.limiter
        or LimitsRateLimiter(
            settings.rate_limit_storage_url, settings.rate_limit_per_minute, settings.rate_limit_per_hour
        ),
        clock=clock,
        ids=given.ids or Uuid7Factory(),
        engine=engine,
    )
