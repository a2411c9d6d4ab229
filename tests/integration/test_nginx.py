"""Debian's nginx with the shipped site (deploy/nginx-backup-collect.conf) in front of two replicas.

nginx runs in the foreground as an unprivileged process (as `nobody` when the tests run as root), with its
own prefix, temp and log dirs, on free loopback ports; the site file is used as shipped except for its listen
lines (loopback ports), certificate (self-signed, made here) and upstream servers (the two replicas). The
replicas share PostgreSQL and the run's S3 bucket, and believe X-Forwarded-For from 127.0.0.1 only, where
nginx connects from.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.integration.certificates import self_signed
from tests.integration.live import Tenant, provision, start_serve
from tests.integration.services import RUN, S3Service, free_port, missing
from tests.unit.fakes import pgp

SITE = Path(__file__).resolve().parents[2] / "deploy/nginx-backup-collect.conf"
UPLOAD = "/api/systems/backups"
TOKEN = "nginx-test-admin-token-0123456789abcdef"
MIB = 1 << 20
# Client addresses on loopback (Linux answers on all of 127.0.0.0/8): one behind nginx, one direct.
CLIENT, DIRECT = "127.0.0.3", "127.0.0.4"
BUFFERED_WARNING = "a client request body is buffered to a temporary file"


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        missing("nginx", "not installed (Debian's package nginx; .ci/run installs it)")
    return found


def site_for(replicas: list[str], https_port: int, http_port: int, cert: Path, key: Path, buffered: bool) -> str:
    """The shipped site with only its listen, certificate and upstream lines replaced; each must be there."""
    text = SITE.read_text()
    upstream = "\n".join(f"    server {replica.removeprefix('http://')};" for replica in replicas)
    changes = {
        "    server 127.0.0.1:8080;": upstream,
        "    listen 80;": f"    listen 127.0.0.1:{http_port};",
        "    listen [::]:80;\n": "",
        "    listen 443 ssl http2;": f"    listen 127.0.0.1:{https_port} ssl http2;",
        "    listen [::]:443 ssl http2;\n": "",
        "/etc/ssl/backup-collect/fullchain.pem": str(cert),
        "/etc/ssl/backup-collect/privkey.pem": str(key),
    }
    if buffered:  # the control experiment: what the checks below see when nginx buffers bodies
        changes["proxy_request_buffering off;"] = "proxy_request_buffering on;"
    for shipped, here in changes.items():
        assert shipped in text, f"the shipped site no longer has {shipped!r}"
        text = text.replace(shipped, here)
    return text


@dataclass
class Nginx:
    url: str
    prefix: Path
    trust: ssl.SSLContext

    @property
    def body_temp(self) -> Path:
        return self.prefix / "client_body"

    def error_log(self) -> str:
        return (self.prefix / "error.log").read_text(errors="replace")


@contextlib.contextmanager
def running_nginx(replicas: list[str], buffered: bool = False) -> Iterator[Nginx]:
    binary = nginx_binary()
    # Not under pytest's tmp_path: its parents are private to root, and the workers may run as nobody.
    prefix = Path(tempfile.mkdtemp(prefix=f"backup-collect-nginx-{RUN}-"))
    try:
        cert, key = self_signed(prefix)
        https_port, http_port = free_port(), free_port()
        (prefix / "site.conf").write_text(site_for(replicas, https_port, http_port, cert, key, buffered))
        (prefix / "nginx.conf").write_text(
            f"""daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 128; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/site.conf;
}}
"""
        )
        as_root = os.geteuid() == 0
        if as_root:  # nginx runs as nobody; it needs to own its prefix, and its key stays private to it
            for path in [prefix, *prefix.iterdir()]:
                os.chown(path, _uid("nobody"), -1)
        command = [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]
        check = subprocess.run(
            [*command, "-t"], capture_output=True, text=True, timeout=30, check=False, **_unprivileged(as_root)
        )
        assert check.returncode == 0, check.stderr
        with (prefix / "stderr.log").open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=out, **_unprivileged(as_root))
        try:
            _wait_listening(process, https_port, prefix)
            yield Nginx(f"https://127.0.0.1:{https_port}", prefix, ssl.create_default_context(cafile=str(cert)))
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


def _wait_listening(process: subprocess.Popen[bytes], port: int, prefix: Path) -> None:
    """Until nginx accepts connections on `port`; fails at once if it exits, or after 15 s."""
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"nginx did not start:\n{(prefix / 'error.log').read_text()}") from None
            time.sleep(0.02)


def _uid(name: str) -> int:
    import pwd

    return pwd.getpwnam(name).pw_uid


def _unprivileged(as_root: bool) -> dict[str, Any]:
    return {"user": "nobody", "group": "nogroup", "extra_groups": []} if as_root else {}


@dataclass
class Fleet:
    replicas: list[str]
    logs: list[Path]
    tenant: Tenant


@pytest.fixture(scope="module")
def fleet(postgres_url: str, s3: S3Service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    workdir = tmp_path_factory.mktemp("nginx-fleet")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKUP_", "AWS_", "FORWARDED_"))}
    env |= s3.env | {
        "BACKUP_DATA_DIR": str(workdir),
        "BACKUP_DATABASE_URL": postgres_url,
        "BACKUP_STORAGE_URL": s3.url(f"nginx-{secrets.token_hex(4)}"),
        "BACKUP_RATE_LIMIT_PER_MINUTE": "0",
        "BACKUP_RATE_LIMIT_PER_HOUR": "0",
        "BACKUP_MAX_PER_SYSTEM": "50",
        "BACKUP_ADMIN_TOKEN": TOKEN,
        # nginx on this host connects from 127.0.0.1; nothing else is believed.
        "BACKUP_TRUSTED_PROXIES": "127.0.0.1",
    }
    (tenant,) = provision(Settings.from_env(env | {"BACKUP_STORAGE_URL": "memory://"}))
    logs = [workdir / f"replica-{n}.log" for n in range(2)]
    servers = [start_serve(env, log) for log in logs]
    try:
        for server in servers:
            server.wait_ready("/api/ready")
        yield Fleet([s.url for s in servers], logs, tenant)
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="module")
def nginx(fleet: Fleet) -> Iterator[Nginx]:
    with running_nginx(fleet.replicas) as proxy:
        yield proxy


def raw_head(proxy: Nginx, head: bytes) -> bytes:
    """Send only a request head over TLS and read the answer: what nginx says before any body byte."""
    host, port = proxy.url.removeprefix("https://").split(":")
    with (
        socket.create_connection((host, int(port)), timeout=15) as plain,
        proxy.trust.wrap_socket(plain, server_hostname=host) as sock,
    ):
        sock.sendall(head)
        answer = b""
        while b"\r\n\r\n" not in answer or not _complete(answer):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        return answer


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def head_of(tenant: Tenant, length: int) -> bytes:
    import base64

    credentials = base64.b64encode(f"{tenant.key}:{tenant.secret}".encode()).decode()
    return (
        f"POST {UPLOAD} HTTP/1.1\r\nHost: backups.example.net\r\nAuthorization: Basic {credentials}\r\n"
        f"X-Filename: big.tar.gz.gpg\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def test_an_over_cap_content_length_is_refused_before_the_body(nginx: Nginx, fleet: Fleet) -> None:
    # Above the service's cap (500 MiB per system by default), within nginx's 2g: the service answers.
    answer = raw_head(nginx, head_of(fleet.tenant, 600 * MIB))
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    body = answer.partition(b"\r\n\r\n")[2]
    assert b'"key":"Content-Length"' in body
    assert b'"limit_bytes":524288000' in body
    # Above client_max_body_size: nginx answers itself, in the service's envelope, and never asks a replica.
    answer = raw_head(nginx, head_of(fleet.tenant, 3 << 30))
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"application/json" in answer.partition(b"\r\n\r\n")[0]
    assert b'"code":413' in answer
    assert b'"value":"3221225472"' in answer
    assert "client intended to send too large body" in nginx.error_log()


def upload_through(proxy: Nginx, tenant: Tenant, size: int) -> tuple[httpx.Response, str, set[str]]:
    """Stream `size` bytes (chunked, 1 MiB at a time) while watching nginx's client body temp dir."""
    seen: set[str] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if proxy.body_temp.exists():
                seen.update(p.name for p in proxy.body_temp.rglob("*") if p.is_file())
            done.wait(0.005)

    block = b"\x85" + os.urandom(MIB - 1)
    digest = hashlib.sha256()

    def body() -> Iterator[bytes]:
        for _ in range(size // MIB):
            digest.update(block)
            yield block

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with httpx.Client(base_url=proxy.url, verify=proxy.trust, auth=tenant.auth, timeout=120) as https:
            answer = https.post(UPLOAD, content=body(), headers={"X-Filename": "big.tar.gz.gpg"})
    finally:
        done.set()
        watcher.join()
    return answer, digest.hexdigest(), seen


def test_a_large_upload_streams_through_nginx_without_touching_its_disk(nginx: Nginx, fleet: Fleet) -> None:
    answer, sha256, seen = upload_through(nginx, fleet.tenant, 48 * MIB)
    assert answer.status_code == 201, answer.text
    assert answer.json()["data"]["sha256"] == sha256
    assert answer.json()["data"]["size"] == 48 * MIB
    assert seen == set()
    assert BUFFERED_WARNING not in nginx.error_log()


def test_the_checks_above_do_see_a_buffering_nginx(fleet: Fleet) -> None:
    """The control: the same site with proxy_request_buffering on writes the body to its temp dir."""
    with running_nginx(fleet.replicas, buffered=True) as buffering:
        answer, _, _ = upload_through(buffering, fleet.tenant, 4 * MIB)
        assert answer.status_code == 201, answer.text
        assert BUFFERED_WARNING in buffering.error_log()


def uploader_ips(replica: str, tenant: Tenant) -> dict[str, str | None]:
    listed = httpx.get(
        f"{replica}/api/admin/systems/{tenant.key}/backups", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert listed.status_code == 200, listed.text
    return {b["id"]: b["uploader_ip"] for b in listed.json()["data"]}


def post_from(source: str, url: str, tenant: Tenant, trust: ssl.SSLContext | bool, forwarded: str | None) -> str:
    headers = {"X-Filename": "fw.tar.gz.gpg"} | ({"X-Forwarded-For": forwarded} if forwarded else {})
    transport = httpx.HTTPTransport(local_address=source, verify=trust)
    with httpx.Client(transport=transport, timeout=30) as http:
        answer = http.post(url + UPLOAD, content=pgp(3000), auth=tenant.auth, headers=headers)
    assert answer.status_code == 201, answer.text
    backup_id: str = answer.json()["data"]["id"]
    return backup_id


def test_the_uploader_address_comes_through_the_proxy_and_a_direct_peer_cannot_spoof_it(
    nginx: Nginx, fleet: Fleet
) -> None:
    proxied = [post_from(CLIENT, nginx.url, fleet.tenant, nginx.trust, None) for _ in range(2)]
    # What the client writes into X-Forwarded-For is kept by nginx but not believed: nginx appends its peer.
    spoofed_through = post_from(CLIENT, nginx.url, fleet.tenant, nginx.trust, "198.51.100.66")
    # A peer that reaches a replica directly is not a trusted proxy: its header is ignored.
    spoofed_direct = post_from(DIRECT, fleet.replicas[0], fleet.tenant, True, "198.51.100.66")
    seen = uploader_ips(fleet.replicas[1], fleet.tenant)
    assert {i: seen[i] for i in [*proxied, spoofed_through, spoofed_direct]} == {
        proxied[0]: CLIENT,
        proxied[1]: CLIENT,
        spoofed_through: CLIENT,
        spoofed_direct: DIRECT,
    }
    # nginx spread the uploads over both replicas.
    assert all("POST /api/systems/backups" in log.read_text() for log in fleet.logs)
