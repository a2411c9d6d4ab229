"""The heartbeat through real HTTP: a slow, steady upload outlives the reaper's age and is stored; one that
goes silent for longer loses its intent to the reaper (the server's own passes, a short age) and is refused."""

from __future__ import annotations

import hashlib
import json
import select
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from app.composition import Overrides
from app.settings import Settings
from tests.integration.live import Tenant, client, live_server, object_files, provision, settings_for, wait_until
from tests.unit.fakes import pgp

URL = "/api/systems/backups"
REAPER_AGE = timedelta(seconds=1.5)
# The server's own reaper passes and heartbeats, made short; the idle timeout stays well above the age, so
# what removes a silent intent here is the reaper, and the heartbeat is all that keeps a slow one.
FAST = Overrides(reaper_age=REAPER_AGE, reaper_interval=timedelta(seconds=0.2), heartbeat=timedelta(seconds=0.2))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, body_idle_timeout="12s", rate_limit_per_minute="0", rate_limit_per_hour="0")


@pytest.fixture
def site(settings: Settings) -> Iterator[tuple[str, Tenant]]:
    tenant = provision(settings)[0]
    with live_server(settings, FAST) as url:
        yield url, tenant


def intents(settings: Settings) -> list[tuple[str, str | None]]:
    """(id, alive_at) of every intent still uploading, read straight from the SQLite file."""
    with closing(sqlite3.connect(settings.database_url.removeprefix("sqlite+aiosqlite:///"))) as db:
        return db.execute("SELECT id, alive_at FROM backups WHERE state = 'uploading'").fetchall()


def test_a_slow_steady_upload_outlives_the_reaper_age_and_is_stored(
    settings: Settings, site: tuple[str, Tenant]
) -> None:
    url, tenant = site
    parts = [pgp(200), *(pgp(100) for _ in range(40))]
    seen_alive: list[tuple[str, str | None]] = []

    def slow_steady() -> Iterator[bytes]:
        for index, part in enumerate(parts):
            if index == len(parts) - 1:
                seen_alive.extend(intents(settings))  # well past the reaper's age, the intent is still there
            yield part
            time.sleep(0.1)  # pacing the client, not synchronising with the server

    started = time.monotonic()
    with client(url, tenant) as http:
        answer = http.post(
            URL,
            content=slow_steady(),
            headers={"X-Filename": "slow.tar.gz.gpg", "Content-Length": str(sum(map(len, parts)))},
        )
    took = time.monotonic() - started

    assert took > 2 * REAPER_AGE.total_seconds()  # the test means something only if the upload outlived the age
    assert answer.status_code == 201, answer.text
    data = answer.json()["data"]
    body = b"".join(parts)
    assert data["size"] == len(body)
    assert data["sha256"] == hashlib.sha256(body).hexdigest()
    [(still_uploading, alive_at)] = seen_alive
    assert still_uploading == data["id"]
    assert alive_at is not None  # it was kept alive by heartbeats, not merely young
    assert intents(settings) == []
    [stored] = object_files(settings)
    assert stored.read_bytes() == body
    with client(url, tenant) as http:
        assert http.get(f"{URL}/{data['id']}").content == body


def test_an_upload_silent_past_the_reaper_age_loses_its_intent_and_is_refused(
    settings: Settings, site: tuple[str, Tenant]
) -> None:
    url, tenant = site
    host, port = url.removeprefix("http://").split(":")
    first, rest = pgp(200), pgp(100)
    auth = tenant.basic
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(
            f"POST {URL} HTTP/1.1\r\nHost: t\r\nAuthorization: {auth}\r\nX-Filename: quiet.gpg\r\n"
            f"Content-Length: {len(first) + len(rest)}\r\n\r\n".encode()
            + first
        )
        wait_until(lambda: len(intents(settings)) == 1)
        wait_until(lambda: intents(settings) == [], timeout=8)  # the reaper took it: no heartbeat came
        assert select.select([sock], [], [], 0)[0] == []  # the server has not answered: the idle timeout is far
        sock.sendall(rest)  # the client wakes up and finishes; the commit finds no intent
        status, document = answer_of(sock)
    assert status == 503, document
    assert object_files(settings) == []


def answer_of(sock: socket.socket) -> tuple[int, dict[str, object]]:
    answer = b""
    while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < length_of(answer):
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def length_of(answer: bytes) -> int:
    for line in answer.partition(b"\r\n\r\n")[0].lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0
