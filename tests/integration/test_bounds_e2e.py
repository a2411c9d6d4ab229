"""What an anonymous client can hold of a real `backup-collect serve`: head size and time, connections."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.integration.live import ServeProcess, serving, wait_until

HEAD_LIMIT = 16 * 1024


def connect(served: ServeProcess, timeout: float = 20) -> socket.socket:
    host, port = served.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def answer_of(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset counts as closed)."""
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass
    return answer


def status_and_envelope(answer: bytes) -> tuple[int, bytes, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.lower(), json.loads(body)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """One server for the module: every test closes the connections it opened."""
    tmp_path = tmp_path_factory.mktemp("bounds")
    env = {**os.environ, "BACKUP_DATA_DIR": str(tmp_path / "data"), "BACKUP_MAX_CONNECTIONS": "40"}
    with serving(env, tmp_path / "serve.log") as server:
        yield server


def test_a_head_over_16_kib_is_431_in_the_envelope_before_authentication(served: ServeProcess) -> None:
    with connect(served) as sock:
        sock.sendall(b"GET /api/systems/backups HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"a" * HEAD_LIMIT + b"\r\n\r\n")
        status, _, document = status_and_envelope(answer_of(sock))
    assert status == 431
    assert document["code"] == 431
    # Just under the budget is served (and asks for credentials).
    pad = "a" * (HEAD_LIMIT - 200)
    assert httpx.get(served.url + "/api/systems/backups", headers={"X-Pad": pad}).status_code == 401


def test_huge_header_values_are_cut_off_without_growing_the_server(served: ServeProcess) -> None:
    before = rss_bytes(served.process.pid)
    chunk = b"b" * (1024 * 1024)
    with ExitStack() as stack:
        socks = [stack.enter_context(connect(served)) for _ in range(4)]
        for sock in socks:
            sock.sendall(b"POST /api/systems/backups HTTP/1.1\r\nHost: t\r\nX-Huge: ")
        refused = 0
        for sock in socks:
            try:
                for _ in range(64):  # up to 64 MiB each, as an attacker would
                    sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                refused += 1
        assert refused == 4
    assert rss_bytes(served.process.pid) - before < 32 * 1024 * 1024
    assert httpx.get(served.url + "/api/health").status_code == 200


def test_heads_that_trickle_in_are_closed_ten_seconds_after_the_first_byte(served: ServeProcess) -> None:
    started = time.monotonic()
    with ExitStack() as stack:
        socks = [stack.enter_context(connect(served, timeout=1)) for _ in range(20)]
        open_socks = set(socks)
        line = b"GET /api/health HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"s" * 200
        sent = 0
        while open_socks and time.monotonic() - started < 20:
            for sock in list(open_socks):
                try:
                    sock.sendall(line[sent : sent + 1])  # one byte a round, each round ~0.25 s
                except (BrokenPipeError, ConnectionResetError):
                    open_socks.discard(sock)
            sent += 1
            time.sleep(0.25)  # the client's pace, not a synchronisation
        closed_after = time.monotonic() - started
    assert not open_socks
    assert 9 <= closed_after < 14
    assert httpx.get(served.url + "/api/health").status_code == 200


def test_past_the_connection_cap_new_requests_get_503_and_health_still_answers(served: ServeProcess) -> None:
    with ExitStack() as stack:
        for _ in range(60):  # 40 allowed, 20 more: an idle flood
            stack.enter_context(connect(served))
        # Once the server has accepted them, anything but a health probe is refused...
        wait_until(lambda: httpx.get(served.url + "/api/systems/backups", timeout=5).status_code == 503)
        refused = httpx.get(served.url + "/api/systems/backups", timeout=5)
        assert refused.status_code == 503
        assert refused.json()["code"] == 503
        assert refused.headers["Retry-After"] == "30"
        assert refused.json()["data"] == {"retry_after_seconds": 30}
        # ...and health probes are answered at once.
        for _ in range(5):
            started = time.monotonic()
            assert httpx.get(served.url + "/api/health", timeout=5).status_code == 200
            assert time.monotonic() - started < 1
    # Once the flood is gone, everything answers again.
    deadline = time.monotonic() + 5
    while httpx.get(served.url + "/api/systems/backups").status_code != 401:
        assert time.monotonic() < deadline


def test_the_open_files_limit_is_raised_and_the_cap_kept_below_it(tmp_path: Path) -> None:
    env = {**os.environ, "BACKUP_DATA_DIR": str(tmp_path / "data")}
    log = tmp_path / "serve.log"
    with serving(env, log, wrapper=["prlimit", "--nofile=256:1024"]) as server:
        limits = Path(f"/proc/{server.process.pid}/limits").read_text()
        assert any(
            line.startswith("Max open files") and line.split()[3:5] == ["1024", "1024"] for line in limits.splitlines()
        )
        assert "capping connections at 840" in log.read_text()
        with ExitStack() as stack:
            for _ in range(1100):  # past both the cap and the open-files limit
                stack.enter_context(connect(server, timeout=5))
            for _ in range(3):
                started = time.monotonic()
                answered = httpx.get(server.url + "/api/health", timeout=5)
                assert answered.status_code == 200
                assert time.monotonic() - started < 1
