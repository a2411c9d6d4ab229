"""SIGTERM drains a real `backup-collect serve`: in-flight uploads finish, new ones get 503, nothing half-written."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.serve import INTERRUPTED
from app.settings import Settings
from tests.integration.live import object_files, provision, rows_by_state, serving, settings_for, wait_until
from tests.unit.fakes import pgp

URL = "/api/systems/backups"
# uvicorn re-raises the signal it stopped on once shut down, as supervisors expect (SIGINT ends as 130).
STOPPED = {0, -signal.SIGTERM, INTERRUPTED}


def head(authorization: str, length: int) -> bytes:
    return (
        f"POST {URL} HTTP/1.1\r\nHost: t\r\nAuthorization: {authorization}\r\nContent-Length: {length}\r\n\r\n".encode()
    )


def uploads_in_flight(url: str) -> int:
    """The server's own count of uploads being received (its `/metrics` gauge)."""
    for line in httpx.get(url + "/metrics").text.splitlines():
        if line.startswith("backup_collect_uploads_in_flight "):
            return int(float(line.split()[1]))
    raise AssertionError("no in-flight gauge in /metrics")


def draining(url: str) -> bool:
    """The server has taken the signal: it says so on /api/ready while it finishes what is in flight."""
    answer = httpx.get(url + "/api/ready")
    return answer.status_code == 503 and answer.json()["message"] == "shutting down"


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    settings: Settings
    log: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    env = {**os.environ, "BACKUP_DATA_DIR": str(tmp_path / "data")}
    with serving(env, tmp_path / "serve.log") as server:
        yield Served(server.url, server.process, settings_for(tmp_path / "data"), server.log)


def test_sigterm_lets_the_upload_in_flight_finish_and_refuses_new_ones(served: Served) -> None:
    tenant = provision(served.settings)[0]
    body = pgp(3 * 1024 * 1024)
    host, port = served.url.removeprefix("http://").split(":")
    auth = tenant.basic
    with socket.create_connection((host, int(port)), timeout=30) as slow:
        slow.sendall(
            f"POST {URL} HTTP/1.1\r\nHost: t\r\nAuthorization: {auth}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        )
        slow.sendall(body[: 1024 * 1024])
        wait_until(lambda: uploads_in_flight(served.url) == 1)
        served.process.send_signal(signal.SIGTERM)
        wait_until(lambda: draining(served.url))

        refused = httpx.post(served.url + URL, content=pgp(100), auth=tenant.auth)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "30"
        assert httpx.get(served.url + "/api/ready").status_code == 503
        assert served.process.poll() is None  # still draining

        slow.sendall(body[1024 * 1024 :])
        answer = slow.recv(65536)
    assert answer.startswith(b"HTTP/1.1 201 ")
    assert served.process.wait(timeout=20) in STOPPED
    assert rows_by_state(served.settings) == {"stored": 1}
    assert [p.stat().st_size for p in object_files(served.settings)] == [len(body)]


def test_an_upload_still_streaming_when_the_drain_ends_leaves_nothing(served: Served) -> None:
    tenant = provision(served.settings)[0]
    host, port = served.url.removeprefix("http://").split(":")
    auth = tenant.basic
    with socket.create_connection((host, int(port)), timeout=60) as stuck:
        stuck.sendall(
            f"POST {URL} HTTP/1.1\r\nHost: t\r\nAuthorization: {auth}\r\nContent-Length: 10000000\r\n\r\n".encode()
        )
        stuck.sendall(pgp(1024 * 1024))
        wait_until(lambda: uploads_in_flight(served.url) == 1)
        served.process.send_signal(signal.SIGTERM)
        wait_until(lambda: draining(served.url))
        served.process.send_signal(signal.SIGINT)  # a second signal: stop now, without waiting for the drain
        answer = b""
        while chunk := stuck.recv(65536):
            answer += chunk
        assert served.process.wait(timeout=20) in STOPPED
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 "), answer
    assert b"\r\nretry-after: 30" in head.lower()
    assert json.loads(body)["code"] == 503
    assert b"CancelledError" not in served.log.read_bytes()
    assert rows_by_state(served.settings) == {}
    assert object_files(served.settings) == []


def test_ctrl_c_stops_serve_with_one_line_and_the_shells_code_for_it_not_a_traceback(served: Served) -> None:
    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(timeout=30) == INTERRUPTED
    lines = served.log.read_text().rstrip().splitlines()
    assert not any("Traceback" in line or "KeyboardInterrupt" in line for line in lines), lines
    assert lines[-1].endswith("INFO app.serve: stopped by SIGINT")
