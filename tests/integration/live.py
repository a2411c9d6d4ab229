"""A real uvicorn server on 127.0.0.1 in a background thread, for tests through real HTTP."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import os
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from app.asgi import create_app
from app.composition import Overrides, build
from app.guard import server_config
from app.settings import Settings
from domain.model import Backup, NewSystem, SystemIdentity
from tests.unit.fakes import LoopbackOnlySender


def settings_for(data_dir: Path, **env: str) -> Settings:
    """Embedded-default settings under `data_dir`, with BACKUP_* overrides by short name."""
    values = {"BACKUP_DATA_DIR": str(data_dir)}
    values.update({f"BACKUP_{name.upper()}": value for name, value in env.items()})
    return Settings.from_env(values)


def operator_env(data_dir: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    """An in-process command's environment: BACKUP_DATA_DIR alone of the BACKUP_* variables (none leaks in
    from the shell), and the settings the command will read from it plus the `env` overrides."""
    monkeypatch.setenv("BACKUP_DATA_DIR", str(data_dir))
    for name in list(os.environ):
        if name.startswith("BACKUP_") and name != "BACKUP_DATA_DIR":
            monkeypatch.delenv(name)
    return settings_for(data_dir, **env)


def run(settings: Settings, coro_factory: Any) -> Any:
    """Run `coro_factory(container)` on a container of its own, as an operator's CLI would."""

    async def main() -> Any:
        container = build(settings)
        try:
            await container.start()
            return await coro_factory(container)
        finally:
            await container.close()

    return asyncio.run(main())


@dataclass
class Tenant:
    org_id: str
    key: str
    secret: str

    @property
    def auth(self) -> tuple[str, str]:
        return (self.key, self.secret)

    @property
    def basic(self) -> str:
        """The `Authorization` value of this system's credentials, for requests written by hand."""
        return "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()


def provision(settings: Settings, quota: int | None = None, systems: int = 1) -> list[Tenant]:
    async def make(container: Any) -> list[NewSystem]:
        org = await container.registry.create_org("acme", quota)
        return [await container.registry.create_system(org.id) for _ in range(systems)]

    return [Tenant(s.org_id, s.system_key, s.system_secret) for s in run(settings, make)]


def stored(settings: Settings, tenant: Tenant) -> list[Backup]:
    async def rows(container: Any) -> list[Backup]:
        who: SystemIdentity | None = await container.directory.authenticate(tenant.key, tenant.secret)
        assert who is not None
        result: list[Backup] = await container.catalog.stored_backups(who.system_id)
        return result

    result: list[Backup] = run(settings, rows)
    return result


def object_files(settings: Settings) -> list[Path]:
    """Every file under the local object store, temp files included."""
    root = Path(settings.storage_url.removeprefix("file://"))
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@contextmanager
def live_server(settings: Settings, overrides: Overrides | None = None) -> Iterator[str]:
    given = overrides or Overrides()
    if given.webhook_sender is None:
        given = dataclasses.replace(given, webhook_sender=LoopbackOnlySender())
    app = create_app(settings, given)
    config = server_config(app, "127.0.0.1", 0, settings.max_connections, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def raw_request(
    base_url: str, head: bytes, body_parts: Sequence[bytes] = (), close_early: bool = False, read_all: bool = False
) -> bytes:
    """Send raw bytes; return what the server answers (empty when we hang up first): its head, or
    with `read_all` everything until the server closes."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head)
        for part in body_parts:
            sock.sendall(part)
        if close_early:
            sock.shutdown(socket.SHUT_RDWR)
            return b""
        answer = b""
        while read_all or b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        return answer


def client(base_url: str, tenant: Tenant | None = None) -> httpx.Client:
    return httpx.Client(base_url=base_url, auth=tenant.auth if tenant else None, timeout=30)


def rows_by_state(settings: Settings) -> dict[str, int]:
    """Every backup row, whatever its state, read straight from the SQLite file."""
    with closing(sqlite3.connect(settings.database_url.removeprefix("sqlite+aiosqlite:///"))) as db:
        return dict(db.execute("SELECT state, count(*) FROM backups GROUP BY state").fetchall())


def org_used_bytes(settings: Settings, org_id: str) -> int:
    with closing(sqlite3.connect(settings.database_url.removeprefix("sqlite+aiosqlite:///"))) as db:
        (used,) = db.execute("SELECT used_bytes FROM organizations WHERE id = ?", (org_id,)).fetchone()
        return int(used)


def wait_until(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


@dataclass
class ServeProcess:
    """A real `backup-collect serve` process on a free loopback port, its output in `log`."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    verify: ssl.SSLContext | bool = True
    """How to check its certificate (https only)."""

    def wait_ready(self, path: str = "/api/health", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + path, timeout=2, verify=self.verify).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"serve at {self.url} did not start:\n{self.log.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL what is left after 15 s. When the server leads its own process group (as
        start_serve's do) the whole group is signalled, so a wrapper such as strace, which detaches when
        signalled, never leaves the server behind."""
        pid = self.process.pid
        try:
            group = os.getpgid(pid) == pid
        except ProcessLookupError:
            group = False
        deadline = time.monotonic() + 15
        self._send(signal.SIGTERM, group)
        if not self._ended(group, deadline):
            self._send(signal.SIGKILL, group)
            self.process.wait()

    def _send(self, sig: signal.Signals, group: bool) -> None:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(self.process.pid, sig)
            else:
                self.process.send_signal(sig)

    def _ended(self, group: bool, deadline: float) -> bool:
        try:
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return False
        while group:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


def start_serve(
    env: dict[str, str],
    log: Path,
    *options: str,
    wrapper: Sequence[str] = (),
    trust: ssl.SSLContext | None = None,
) -> ServeProcess:
    """`serve --port <free port> *options`; `wrapper` runs before the interpreter (e.g. `strace -f -o FILE`);
    with `trust` (for --tls-cert) its `url` is https."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*wrapper, sys.executable, "-m", "app.cli", "serve", "--port", str(port), *options],
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    if trust is None:
        return ServeProcess(f"http://127.0.0.1:{port}", process, log)
    return ServeProcess(f"https://127.0.0.1:{port}", process, log, trust)


@contextmanager
def serving(
    env: dict[str, str],
    log: Path,
    *options: str,
    ready: str = "/api/ready",
    wrapper: Sequence[str] = (),
    trust: ssl.SSLContext | None = None,
) -> Iterator[ServeProcess]:
    """A serve process (`options`, `wrapper` and `trust` as in start_serve), ready (its `ready` path answers
    200), stopped at the end."""
    served = start_serve(env, log, *options, wrapper=wrapper, trust=trust)
    try:
        served.wait_ready(ready)
        yield served
    finally:
        served.stop()
