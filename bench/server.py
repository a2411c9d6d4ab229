"""Real server processes on 127.0.0.1: `backup-collect serve`, and the bare Litestar baseline."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import httpx

from app.composition import build
from app.settings import Settings
from bench.client import HOST, Credentials

SERVE = [sys.executable, "-m", "app.cli", "serve"]
BARE = [sys.executable, "-m", "bench.bare"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Process:
    """A child process listening on a free port, stopped (and its log closed) on exit."""

    def __init__(self, command: list[str], env: Mapping[str, str], log: Path, ready_path: str) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self._command = [*command, "--port", str(self.port)]
        self._env = {**os.environ, **env}
        self._log_path = log
        self._ready_path = ready_path
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Process:
        log = self._log_path.open("ab")
        try:
            self._process = subprocess.Popen(self._command, env=self._env, stdout=log, stderr=log)  # noqa: S603
        finally:
            log.close()
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(self.url + self._ready_path, timeout=5).status_code == 200:
                    return self
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"{self._command[:4]} did not start; see {self._log_path}")
            time.sleep(0.1)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=15)
        self._process = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the process is not running")
        return self._process.pid

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM (peak RSS) in bytes, from /proc/<pid>/status."""
        figures = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in {"VmRSS", "VmHWM"}:
                figures[name] = int(value.split()[0]) * 1024
        return figures

    def reset_peak(self) -> None:
        """Writing 5 to clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")


def service_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The service's environment: rate limits off, caps above every bench body, 2 slots per system."""
    return {
        "BACKUP_DATA_DIR": str(data_dir),
        "BACKUP_RATE_LIMIT_PER_MINUTE": "0",
        "BACKUP_RATE_LIMIT_PER_HOUR": "0",
        "BACKUP_MAX_UPLOAD_SIZE": "3GiB",
        "BACKUP_MAX_SIZE_PER_SYSTEM": "3GiB",
        "BACKUP_MAX_SIZE_PER_ORG": "0",
        "BACKUP_MAX_PER_SYSTEM": "1",
        **extra,
    }


def provision(env: Mapping[str, str], systems: int) -> list[Credentials]:
    """One organization and `systems` systems, created as `org create`/`system create` do."""

    async def create() -> list[Credentials]:
        container = build(Settings.from_env({**os.environ, **env}))
        try:
            await container.start()
            org = await container.registry.create_org("bench")
            made = [await container.registry.create_system(org.id) for _ in range(systems)]
        finally:
            await container.close()
        return [Credentials(system.system_key, system.system_secret) for system in made]

    return asyncio.run(create())
