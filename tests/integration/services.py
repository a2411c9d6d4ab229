"""PostgreSQL, Redis and S3 for the integration tests, found in this order:

1. explicit URLs from the environment: `BACKUP_TEST_DATABASE_URL`, `BACKUP_TEST_REDIS_URL`,
   `BACKUP_TEST_S3_ENDPOINT` (+ `BACKUP_TEST_S3_BUCKET`, credentials from `AWS_ACCESS_KEY_ID` /
   `AWS_SECRET_ACCESS_KEY`, region from `AWS_REGION`);
2. this machine's own: PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth; a fresh database per
   run, dropped afterwards), Redis on 127.0.0.1:6379 (db `REDIS_TEST_DB`; this run's keys deleted
   afterwards) and a real S3 server started here: SeaweedFS (`tests/integration/seaweedfs.py`) on free
   loopback ports, telemetry off, credentials of this run only; stopped and erased afterwards.

Under `CI=true` a missing service fails the run; otherwise its tests are skipped with the reason.

Containers are a path of their own, besides these: `tests/containers/` runs the PostgreSQL, Redis and S3
contract suites and the two-replica test once more against containers that testcontainers starts (see
`docs/containers.md`). The upstream images it can use instead of its local ones are pinned here.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import os
import secrets
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import coredis
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.memory.clock import FrozenClock
from adapters.sql import upgrade
from adapters.sql.models import Base
from domain.maintenance import MaintenanceCatalog
from domain.ports import BackupCatalog, EventLog, RateLimiter, SystemDirectory, SystemHealth
from tests.integration.seaweedfs import seaweedfs

PG_IMAGE = "postgres:17.5-alpine"
REDIS_IMAGE = "redis:7.4.5-alpine"
MINIO_IMAGE = "minio/minio:RELEASE.2025-04-22T22-12-26Z"
LOCAL_PG_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = ("127.0.0.1", 6379)
# A database number of its own, so the tests never touch what db 0 holds on a developer's machine.
REDIS_TEST_DB = 13
S3_REGION = "us-east-1"
# Every key, bucket and database this run creates carries this token, so concurrent runs on one
# machine (several worktrees, one Redis) neither see nor erase each other's state.
RUN = secrets.token_hex(4)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def missing(service: str, reason: object) -> NoReturn:
    """Fail under CI (a missing service must never pass silently), else skip with the reason."""
    message = f"{service} unavailable: {reason}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: integration services are required)", pytrace=False)
    pytest.skip(message)


@functools.cache
def docker_engine() -> bool:
    """True when a Docker engine answers a ping (testcontainers raises at once without one)."""
    if os.environ.get("BACKUP_TEST_NO_DOCKER"):
        return False
    if not os.environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists():
        return False
    # docker-py leaves its socket to the garbage collector when the engine does not answer; collect
    # it here, where the ResourceWarning is expected, rather than in some later test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            import docker  # type: ignore[import-untyped]

            client = docker.from_env(timeout=3)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except Exception:
            return False
        finally:
            gc.collect()


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- PostgreSQL ---------------------------------------------------------------------------------


async def _pg_admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@contextlib.contextmanager
def postgres_service() -> Iterator[str]:
    """An asyncpg SQLAlchemy URL of an empty (or at least migratable) database."""
    explicit = os.environ.get("BACKUP_TEST_DATABASE_URL")
    if explicit:
        try:
            asyncio.run(_pg_admin(explicit, "SELECT 1"))
        except Exception as error:
            missing("PostgreSQL", f"BACKUP_TEST_DATABASE_URL: {error!r}")
        yield explicit
        return
    name = f"backup_collect_test_{RUN}"
    try:
        asyncio.run(_pg_admin(LOCAL_PG_ADMIN_URL, f"CREATE DATABASE {name}"))
    except Exception as error:
        missing("PostgreSQL", f"{LOCAL_PG_ADMIN_URL}: {error}")
    try:
        yield make_url(LOCAL_PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_admin(LOCAL_PG_ADMIN_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


# --- Redis --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedisService:
    url: str
    key_prefix: str = f"run-{RUN}"
    """Tests name their rate-limit keys (system keys) with this prefix; afterwards they are deleted."""

    def key(self) -> str:
        return f"{self.key_prefix}-{secrets.token_hex(4)}"


async def _redis_ping(url: str) -> None:
    client: coredis.Redis[bytes] = coredis.Redis.from_url(url)
    try:
        await client.ping()
    finally:
        client.connection_pool.disconnect()


async def _redis_forget(url: str, pattern: str) -> None:
    client: coredis.Redis[bytes] = coredis.Redis.from_url(url)
    try:
        keys: list[str | bytes] = [key async for key in client.scan_iter(match=pattern)]
        if keys:
            await client.delete(keys)
    finally:
        client.connection_pool.disconnect()


@contextlib.contextmanager
def redis_service() -> Iterator[RedisService]:
    explicit = os.environ.get("BACKUP_TEST_REDIS_URL")
    url = explicit or f"redis://{LOCAL_REDIS[0]}:{LOCAL_REDIS[1]}/{REDIS_TEST_DB}"
    try:
        asyncio.run(_redis_ping(url))
    except Exception as error:
        missing("Redis", f"{url}: {error!r}")
    service = RedisService(url)
    try:
        yield service
    finally:
        # Not FLUSHDB: another run on this machine may be using the same database right now.
        asyncio.run(_redis_forget(url, f"*{service.key_prefix}*"))


# --- S3 -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Service:
    """An S3-compatible endpoint with one bucket for this run."""

    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    region: str = S3_REGION
    env: dict[str, str] = field(init=False)
    """The `AWS_*` environment a server process needs to reach this bucket."""

    def __post_init__(self) -> None:
        env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
        }
        if self.endpoint.startswith("http://"):
            # Test servers speak plain HTTP, and a container's host is not always loopback.
            env["AWS_ALLOW_HTTP"] = "true"
        object.__setattr__(self, "env", env)

    def url(self, prefix: str) -> str:
        """A `BACKUP_STORAGE_URL` for `prefix` inside this run's bucket."""
        return f"s3://{self.bucket}/{prefix}"

    def client(self) -> Any:
        """A boto3 client, for what obstore cannot do (buckets, listing multipart uploads)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        )

    def pending_multipart_uploads(self, prefix: str = "") -> list[str]:
        """Keys of multipart uploads begun and neither completed nor aborted."""
        answer = self.client().list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
        return [upload["Key"] for upload in answer.get("Uploads", [])]

    def object_bytes(self, key: str) -> bytes:
        body: bytes = self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def create_bucket(self) -> None:
        self.client().create_bucket(Bucket=self.bucket)

    def delete_bucket(self) -> None:
        client = self.client()
        for upload in client.list_multipart_uploads(Bucket=self.bucket).get("Uploads", []):
            client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=self.bucket, Key=item["Key"])
        client.delete_bucket(Bucket=self.bucket)


@contextlib.contextmanager
def s3_service() -> Iterator[S3Service]:
    explicit = os.environ.get("BACKUP_TEST_S3_ENDPOINT")
    bucket = f"backup-collect-test-{RUN}"
    if explicit:
        access_key = os.environ.get("AWS_ACCESS_KEY_ID", "")
        secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
        region = os.environ.get("AWS_REGION", S3_REGION)
        given = os.environ.get("BACKUP_TEST_S3_BUCKET")
        service = S3Service(explicit, given or bucket, access_key, secret_key, region)
        yield from with_bucket(service, create=not given)
        return
    try:
        server = seaweedfs()
        local = server.__enter__()
    except Exception as error:
        missing("S3 (SeaweedFS)", repr(error))
    try:
        yield from with_bucket(S3Service(local.endpoint, bucket, local.access_key, local.secret_key), create=True)
    finally:
        server.__exit__(None, None, None)


def with_bucket(service: S3Service, create: bool) -> Iterator[S3Service]:
    if create:
        try:
            service.create_bucket()
        except Exception as error:
            missing("S3", f"{service.endpoint}: cannot create bucket {service.bucket}: {error!r}")
    try:
        yield service
    finally:
        if create:
            service.delete_bucket()


# --- what the adapter fixtures hand out ----------------------------------------------------------


@dataclass(frozen=True)
class Ledger:
    """A directory, a catalog and the maintenance view sharing one backend; `engine` is None in memory."""

    backend: str
    directory: SystemDirectory
    catalog: BackupCatalog
    maintenance: MaintenanceCatalog
    health: SystemHealth
    engine: AsyncEngine | None = None
    events: EventLog | None = None


class FakeTime:
    """Seconds since the epoch that move only when told to; starts at the real time. `follow` hands
    every advance on to another clock as well (the wall clock that `limits` reads, held by time-machine)."""

    def __init__(self) -> None:
        self.now = time.time()
        self.clock = FrozenClock(datetime.fromtimestamp(self.now, UTC))
        self._followers: list[Callable[[float], object]] = []

    def follow(self, shift: Callable[[float], object]) -> None:
        self._followers.append(shift)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.clock.advance(seconds)
        for shift in self._followers:
            shift(seconds)


@dataclass(frozen=True)
class Limiters:
    """Builds limiters of one adapter on one controllable clock; `key()` gives an unused key."""

    backend: str
    make: Callable[[int, int], RateLimiter]
    """`make(per_minute, per_hour)`; 0 disables that window."""
    time: FakeTime
    key: Callable[[], str]
    windows: Callable[[dict[int, int], str], RateLimiter]
    """`windows({length in seconds: hits}, namespace)`: a limiter of the operator guards' kind."""


# --- a cable to pull ------------------------------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target`; `cut()` makes the target unreachable, `restore()` mends it.

    Servers reach PostgreSQL or S3 through one, so a test can take a dependency away mid-run.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._open = threading.Event()

    def __enter__(self) -> TcpProxy:
        self.restore()
        return self

    def __exit__(self, *_: object) -> None:
        self.cut()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        self._open.set()
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and reset the open ones."""
        self._open.clear()
        if self._listener is not None:
            # shutdown wakes the accept loop at once; a listener merely closed would linger a moment.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            doomed, self._sockets = self._sockets, set()
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while self._open.is_set():
                try:
                    downstream, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not self._open.is_set():
                    downstream.close()
                    return
                try:
                    upstream = socket.create_connection(self.target, timeout=5)
                except OSError:
                    downstream.close()
                    continue
                upstream.settimeout(None)
                downstream.settimeout(None)
                with self._lock:
                    self._sockets |= {downstream, upstream}
                pair = _Pair(self, downstream, upstream)
                for source, sink in ((downstream, upstream), (upstream, downstream)):
                    threading.Thread(target=pair.pump, args=(source, sink), daemon=True).start()

    def _forget(self, *sockets: socket.socket) -> None:
        with self._lock:
            self._sockets -= set(sockets)
        for sock in sockets:
            sock.close()


class _Pair:
    """Both directions of one proxied connection; the second pump to finish closes both sockets."""

    def __init__(self, proxy: TcpProxy, *sockets: socket.socket) -> None:
        self._proxy = proxy
        self._sockets = sockets
        self._running = 2
        self._lock = threading.Lock()

    def pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
            with self._lock:
                self._running -= 1
                last = self._running == 0
            if last:
                self._proxy._forget(*self._sockets)


async def migrated_and_empty(engine: AsyncEngine) -> None:
    """The schema at the newest revision with every table empty: PostgreSQL's database is shared by the
    whole run, so every test that uses it starts from empty tables."""
    await upgrade(engine)
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())
