"""Which adapter each setting names, for the composition root (`app.composition`). Each is imported
where it is built, so a command that needs none of them never pays for importing it."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING

from app.settings import Settings
from domain.ports import BackupCatalog, Clock, EventLog, ObjectStore, RateLimiter, SystemDirectory, SystemHealth

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


def event_log(engine: AsyncEngine | None, catalog: BackupCatalog) -> EventLog:
    """The log the catalog writes: in its database, or in the in-memory tables it shares."""
    if engine is not None:
        from adapters.sql.events import SqlEventLog

        return SqlEventLog(engine)
    from adapters.memory.catalog import InMemoryBackupCatalog
    from adapters.memory.events import InMemoryEventLog

    if not isinstance(catalog, InMemoryBackupCatalog):
        raise ValueError("give Overrides.events with a catalog that is neither SQL nor in-memory")
    return InMemoryEventLog(catalog.tables)


def health(directory: SystemDirectory, engine: AsyncEngine | None) -> SystemHealth:
    """On the directory's own database: its engine, or the in-memory tables it keeps."""
    from adapters.memory.directory import InMemorySystemDirectory

    if isinstance(directory, InMemorySystemDirectory):
        from adapters.memory.health import InMemorySystemHealth

        return InMemorySystemHealth(directory.tables)
    if engine is None:
        raise ValueError("an overridden directory needs its engine or a SystemHealth override")
    from adapters.sql.health import SqlSystemHealth

    return SqlSystemHealth(engine)


def object_store(settings: Settings) -> ObjectStore:
    from adapters.objectstore.urls import objects_from_url

    return objects_from_url(settings.storage_url)


def rate_limiter(settings: Settings, clock: Clock) -> RateLimiter:
    """Redis through `limits`; in process memory our own windows: `limits`' memory storage sweeps every
    key through a worker thread on each hit, a cost that grows with the fleet (13 % of a busy process at
    300 systems, measured by `just load`)."""
    minute, hour = settings.rate_limit_per_minute, settings.rate_limit_per_hour
    if _in_process(settings):
        from adapters.memory.ratelimit import InMemoryRateLimiter

        return InMemoryRateLimiter({60: minute, 3600: hour}, clock)
    from adapters.ratelimit.limits_adapter import LimitsRateLimiter

    return LimitsRateLimiter(settings.rate_limit_storage_url, minute, hour, clock=clock)


def guard_limiter(settings: Settings, clock: Clock, windows: dict[int, int], namespace: str) -> RateLimiter:
    """A limiter of the operator guards, on the storage of the upload windows (Redis: shared by every
    replica) in a key namespace of its own."""
    if _in_process(settings):
        from adapters.memory.ratelimit import InMemoryRateLimiter

        return InMemoryRateLimiter(windows, clock)
    from adapters.ratelimit.limits_adapter import LimitsRateLimiter

    return LimitsRateLimiter(settings.rate_limit_storage_url, clock=clock, windows=windows, namespace=namespace)


def _in_process(settings: Settings) -> bool:
    """A `memory://` rate-limit storage: the windows live in this process, in our own limiter."""
    return settings.rate_limit_storage_url.removeprefix("async+").startswith("memory://")


def failures_of(*limiters: RateLimiter) -> Callable[[], int]:
    """The limiters fail open, so no request sees a Redis failure: their own counts feed the metric. Asked by
    name, not by class: importing the Redis limiter's module (coredis, 0.4 s) would slow every CLI command."""
    count = attrgetter("storage_failures")
    counted = [limiter for limiter in limiters if hasattr(limiter, "storage_failures")]
    return lambda: sum(int(count(limiter)) for limiter in counted)
