"""Fixtures of the integration tests: the services, and every adapter of every port.

Contract suites ask for a port (`directory` + `catalog`, `objects`, `limiters`) and run once per adapter:

- `directory` / `catalog` / `maintenance`: a matched set on one backend — `memory`, `sqlite`, `postgresql` — starting
  from empty tables;
- `objects`: `ObstoreObjectStore` over `memory` and `s3` (a fresh prefix of the test bucket), and the
  durable `FileObjectStore` as `file` (tmp_path) — what `file://` URLs get;
- `limiters`: a factory of rate limiters on a fake clock — `memory` (the embedded default),
  `limits-memory` and `redis`.

Service fixtures (session-scoped): `postgres_url`, `redis` / `redis_url`, `s3` / `s3_env`.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import time_machine
from obstore.store import MemoryStore

from adapters.memory.catalog import InMemoryBackupCatalog
from adapters.memory.directory import InMemorySystemDirectory
from adapters.memory.events import InMemoryEventLog
from adapters.memory.health import InMemorySystemHealth
from adapters.memory.maintenance import InMemoryMaintenanceCatalog
from adapters.memory.ratelimit import InMemoryRateLimiter
from adapters.memory.tables import Tables
from adapters.memory.webhooks import InMemoryWebhookStore
from adapters.objectstore.file_store import FileObjectStore
from adapters.objectstore.obstore_adapter import ObstoreObjectStore
from adapters.objectstore.urls import store_from_url
from adapters.ratelimit.limits_adapter import LimitsRateLimiter
from adapters.sql import SqlBackupCatalog, SqlSystemDirectory, make_engine, make_read_engine
from adapters.sql.events import SqlEventLog
from adapters.sql.health import SqlSystemHealth
from adapters.sql.maintenance import SqlMaintenanceCatalog
from adapters.sql.webhooks import SqlWebhookStore
from domain.maintenance import MaintenanceCatalog
from domain.ports import BackupCatalog, EventLog, ObjectStore, RateLimiter, SystemDirectory, SystemHealth, WebhookStore
from tests.integration.services import (
    FakeTime,
    Ledger,
    Limiters,
    RedisService,
    S3Service,
    migrated_and_empty,
    postgres_service,
    redis_service,
    s3_service,
)

# --- services (session-scoped; sync, since each runs its own event loop to set itself up) ------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A `postgresql+asyncpg://` URL of this run's database (each `ledger` migrates it and empties it)."""
    with postgres_service() as url:
        yield url


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisService]:
    """This run's Redis: `.url` for `BACKUP_RATE_LIMIT_STORAGE_URL`, `.key()` for a fresh rate-limit key."""
    with redis_service() as service:
        yield service


@pytest.fixture(scope="session")
def redis_url(redis: RedisService) -> str:
    return redis.url


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Service]:
    """This run's S3 bucket: `.env` (the AWS_* variables), `.url(prefix)`, `.client()` (boto3)."""
    with s3_service() as service:
        yield service


@pytest.fixture(scope="session")
def s3_env(s3: S3Service) -> dict[str, str]:
    return s3.env


# --- SystemDirectory + BackupCatalog ---------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of each SQL backend: a SQLite file in a directory not made yet, or the run's PostgreSQL. Sync,
    so that the session-scoped PostgreSQL fixture can run its own event loop."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/nested/dir/backups.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """The database URL of the backend under test (None in memory). Sync, so that the session-scoped
    PostgreSQL fixture can run its own event loop."""
    if request.param == "memory":
        return None
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/ledger/backups.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def ledger(ledger_url: str | None) -> AsyncIterator[Ledger]:
    if ledger_url is None:
        tables = Tables()
        yield Ledger(
            "memory",
            InMemorySystemDirectory(tables),
            InMemoryBackupCatalog(tables),
            InMemoryMaintenanceCatalog(tables),
            events=InMemoryEventLog(tables),
            health=InMemorySystemHealth(tables),
        )
        return
    engine = make_engine(ledger_url)
    reads = make_read_engine(engine)  # as the composition root wires it: on SQLite, readers of their own
    try:
        await migrated_and_empty(engine)
        yield Ledger(
            engine.dialect.name,
            SqlSystemDirectory(engine, reads=reads),
            SqlBackupCatalog(engine),
            SqlMaintenanceCatalog(engine),
            SqlSystemHealth(engine),
            engine,
            events=SqlEventLog(engine),
        )
    finally:
        if reads is not engine:
            await reads.dispose()
        await engine.dispose()


@pytest.fixture
def directory(ledger: Ledger) -> SystemDirectory:
    return ledger.directory


@pytest.fixture
def catalog(ledger: Ledger) -> BackupCatalog:
    return ledger.catalog


@pytest.fixture
def events(ledger: Ledger) -> EventLog:
    assert ledger.events is not None
    return ledger.events


@pytest.fixture
def maintenance(ledger: Ledger) -> MaintenanceCatalog:
    return ledger.maintenance


@pytest.fixture
def health(ledger: Ledger) -> SystemHealth:
    return ledger.health


# --- ObjectStore ----------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "file", "s3"])
def objects(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """An empty object store; on S3 a fresh prefix of the run's bucket."""
    if request.param == "memory":
        return ObstoreObjectStore(MemoryStore())
    if request.param == "file":
        return FileObjectStore(tmp_path / "objects")
    s3: S3Service = request.getfixturevalue("s3")
    return ObstoreObjectStore(store_from_url(s3.url(f"t-{secrets.token_hex(6)}"), env=s3.env))


# --- RateLimiter ----------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "limits-memory", "redis"])
def limiter_backend(request: pytest.FixtureRequest) -> tuple[str, RedisService | None]:
    """The adapter under test, and Redis for the one that needs it. Sync, like `ledger_url`."""
    backend: str = request.param
    return backend, request.getfixturevalue("redis") if backend == "redis" else None


@pytest.fixture
async def limiters(limiter_backend: tuple[str, RedisService | None]) -> AsyncIterator[Limiters]:
    """Rate limiters of one adapter, all on one fake clock that `limiters.time.advance` moves."""
    backend, redis = limiter_backend
    fake = FakeTime()

    def key() -> str:
        return f"sys-{secrets.token_hex(6)}"

    if backend == "memory":

        def in_memory(per_minute: int, per_hour: int) -> RateLimiter:
            return InMemoryRateLimiter({60: per_minute, 3600: per_hour}, fake.clock)

        def in_memory_windows(windows: dict[int, int], _namespace: str) -> RateLimiter:
            return InMemoryRateLimiter(windows, fake.clock)

        yield Limiters("memory", in_memory, fake, key, in_memory_windows)
        return
    url = "memory://"
    if redis is not None:
        url, key = redis.url, redis.key
    made: list[LimitsRateLimiter] = []

    def with_limits(per_minute: int, per_hour: int) -> RateLimiter:
        made.append(LimitsRateLimiter(url, per_minute, per_hour, clock=fake.clock))
        return made[-1]

    def with_windows(windows: dict[int, int], namespace: str) -> RateLimiter:
        made.append(LimitsRateLimiter(url, clock=fake.clock, windows=windows, namespace=namespace))
        return made[-1]

    # `limits` reads the wall clock itself and offers no clock to inject: hold the process's wall clock
    # on the fake one (monotonic time, which asyncio runs on, is left alone).
    with time_machine.travel(fake.now, tick=False) as travel:
        fake.follow(travel.shift)
        yield Limiters(backend, with_limits, fake, key, with_windows)
        for limiter in made:
            await limiter.aclose()


@pytest.fixture
def webhook_store(ledger: Ledger) -> WebhookStore:
    if ledger.engine is None:
        assert isinstance(ledger.directory, InMemorySystemDirectory)
        return InMemoryWebhookStore(ledger.directory.tables)
    return SqlWebhookStore(ledger.engine)
