"""The deployments `just load` measures, each made from nothing and removed afterwards, loopback only:
the embedded default (one process, SQLite, local files) and two replicas on PostgreSQL, SeaweedFS and
Redis; the fleet that uploads to them; the invariants checked after the run."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import socket
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import coredis
import psutil

from app.composition import build
from app.settings import Settings
from bench.client import Credentials
from bench.server import BARE, SERVE, Process
from bench.stores import BUCKET, s3_server, scratch_database

CLI = [sys.executable, "-m", "app.cli"]
REDIS_URL = "redis://127.0.0.1:6379/14"  # a db of its own; the tests use 13


@dataclass(frozen=True, slots=True)
class Caps:
    """What the load's service runs with: the rate limits stay on, so their cost is in every upload."""

    per_minute: int = 10
    per_hour: int = 60
    in_flight: int = 2
    slots: int = 1

    def env(self) -> dict[str, str]:
        return {
            "BACKUP_RATE_LIMIT_PER_MINUTE": str(self.per_minute),
            "BACKUP_RATE_LIMIT_PER_HOUR": str(self.per_hour),
            "BACKUP_MAX_UPLOADS_PER_SYSTEM": str(self.in_flight),
            "BACKUP_MAX_PER_SYSTEM": str(self.slots),
        }


@dataclass(slots=True)
class Deployment:
    """Running `serve` processes, the environment the CLI needs to reach their state, other pids."""

    name: str
    env: dict[str, str]
    servers: list[Process]
    services: dict[str, int] = field(default_factory=dict)

    @property
    def ports(self) -> list[int]:
        return [server.port for server in self.servers]

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(server.pid) for server in self.servers)

    def service_cpu_seconds(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) for name, pid in self.services.items()}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its reaped children."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system + times.children_user + times.children_system)


def loopback(url: str) -> str:
    """`url` unchanged when its host is a loopback address; anything else is refused."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as error:
        raise SystemExit(f"load: cannot resolve {host!r} in {url}") from error
    if not addresses or not all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in addresses):
        raise SystemExit(f"load: refusing {url}: it is not on the loopback interface")
    return url


@contextlib.contextmanager
def embedded(workdir: Path, caps: Caps) -> Iterator[Deployment]:
    env = {"BACKUP_DATA_DIR": str(workdir / "embedded"), **caps.env()}
    with Process(SERVE, env, workdir / "embedded.log", "/api/ready") as server:
        yield Deployment("embedded default: SQLite + local files, 1 process", env, [server])


@contextlib.contextmanager
def replicas(workdir: Path, caps: Caps, redis_url: str, token: str) -> Iterator[Deployment]:
    """Two `serve` replicas on a scratch PostgreSQL database, a fresh SeaweedFS and Redis."""
    with scratch_database() as database, s3_server() as aws:
        env = {
            "BACKUP_DATA_DIR": str(workdir / "replicas"),
            "BACKUP_DATABASE_URL": database,
            "BACKUP_STORAGE_URL": f"s3://{BUCKET}",
            "BACKUP_RATE_LIMIT_STORAGE_URL": redis_url,
            **aws,
            **caps.env(),
        }
        try:
            with contextlib.ExitStack() as stack:
                servers = [
                    stack.enter_context(Process(SERVE, env, workdir / f"replica-{n}.log", "/api/ready")) for n in (1, 2)
                ]
                yield Deployment(
                    "2 replicas: PostgreSQL + SeaweedFS + Redis", env, servers, _service_pids(aws, redis_url)
                )
        finally:
            asyncio.run(_forget_redis_keys(redis_url, token))


@contextlib.contextmanager
def bare(workdir: Path, count: int) -> Iterator[Deployment]:
    """`count` bare Litestar handlers (the ceiling), one per replica measured."""
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(Process(BARE, {}, workdir / f"bare-{n}.log", "/api/health")) for n in range(count)
        ]
        yield Deployment("bare Litestar handler", {}, servers)


def _service_pids(aws: Mapping[str, str], redis_url: str) -> dict[str, int]:
    """The processes listening on the S3 endpoint's and Redis's ports (for their CPU time)."""
    ports = {urlsplit(aws["AWS_ENDPOINT_URL"]).port: "seaweedfs", urlsplit(redis_url).port or 6379: "redis"}
    found = {}
    with contextlib.suppress(psutil.Error):
        for connection in psutil.net_connections("tcp"):
            if connection.status == psutil.CONN_LISTEN and connection.laddr.port in ports and connection.pid:
                found[ports[connection.laddr.port]] = connection.pid
    return found


async def _forget_redis_keys(redis_url: str, token: str) -> None:
    """Delete the rate-limit windows of this run's systems (their keys carry `token`); bounded."""
    client: coredis.Redis[bytes] = coredis.Redis.from_url(redis_url)
    try:
        keys: list[str | bytes] = []
        async for key in client.scan_iter(match=f"*{token}*", count=1000):
            keys.append(key)
            if len(keys) >= 1_000_000:
                break
        for start in range(0, len(keys), 1000):
            await client.delete(keys[start : start + 1000])
    finally:
        client.connection_pool.disconnect()


def provision(env: Mapping[str, str], systems: int, orgs: int, token: str) -> list[Credentials]:
    """`orgs` organizations; the first holds half the fleet (one big tenant), the rest share the other
    half. System keys carry `token`, so what the run leaves in shared services can be found."""

    async def create() -> list[Credentials]:
        container = build(Settings.from_env({**os.environ, **env}))
        try:
            await container.start()
            made = [await container.registry.create_org(f"load-{n}") for n in range(orgs)]
            big = systems // 2 if orgs > 1 else systems
            homes = [made[0].id] * big + [made[1 + n % (orgs - 1)].id for n in range(systems - big)]
            gate = asyncio.Semaphore(8)

            async def one(n: int, org_id: str) -> Credentials:
                async with gate:
                    system = await container.registry.create_system(org_id, f"load-{token}-{n:05d}")
                return Credentials(system.system_key, system.system_secret)

            return list(await asyncio.gather(*(one(n, org) for n, org in enumerate(homes))))
        finally:
            await container.close()

    return asyncio.run(create())


def cli_json(env: Mapping[str, str], *args: str) -> Any:
    done = subprocess.run(  # noqa: S603
        [*CLI, *args, "--json"], env={**os.environ, **env}, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise RuntimeError(f"backup-collect {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout)


def invariants(deployment: Deployment, systems: Sequence[Credentials], caps: Caps) -> list[str]:
    """What is wrong after the run (empty: nothing): fsck, usage against the sum, every system's caps."""
    problems: list[str] = []
    max_bytes = Settings.from_env({**os.environ, **deployment.env}).limits.max_size_per_system
    report = cli_json(deployment.env, "fsck")
    if not report["ok"]:
        problems.append(f"fsck: {report['problems'][:5]}")
    listed = {item["system_key"]: item for item in cli_json(deployment.env, "system", "list")}
    totals: dict[str, int] = defaultdict(int)
    for who in systems:
        item = listed.get(who.key)
        if item is None:
            problems.append(f"system {who.key} is missing")
            continue
        totals[item["org_id"]] += item["total_size"]
        if item["backups"] > caps.slots:
            problems.append(f"system {who.key} keeps {item['backups']} backups, cap {caps.slots}")
        if item["total_size"] > max_bytes:
            problems.append(f"system {who.key} keeps {item['total_size']} bytes, cap {max_bytes}")
    for org in cli_json(deployment.env, "org", "list"):
        if org["used_bytes"] != totals.get(org["id"], 0):
            problems.append(f"org {org['id']}: used_bytes {org['used_bytes']} != sum {totals.get(org['id'], 0)}")
    return problems
