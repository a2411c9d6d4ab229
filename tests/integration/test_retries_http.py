"""Retries and integrity through real HTTP: duplicate bodies, Idempotency-Key, RFC 9530 digests, and the
NethServer 8 curl line retried after its first answer was lost."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import socket
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.memory.clock import FrozenClock
from adapters.sql import make_engine
from adapters.sql.maintenance import SqlMaintenanceCatalog
from app.composition import Overrides
from app.settings import Settings
from tests.integration.live import (
    Tenant,
    live_server,
    object_files,
    provision,
    raw_request,
    rows_by_state,
    settings_for,
    stored,
    wait_until,
)
from tests.unit.fakes import pgp

URL = "/api/systems/backups"


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    # Six identical uploads race in one test: all of them are let in at once (SPEC's default of two
    # uploads in flight per system would answer the others 429 before the commit could decide).
    env = {
        "rate_limit_per_minute": "0",
        "rate_limit_per_hour": "0",
        "max_per_system": "2",
        "max_uploads_per_system": "6",
    }
    if request.param == "postgresql":
        env["database_url"] = request.getfixturevalue("postgres_url")
    return settings_for(tmp_path, **env)


@pytest.fixture
def sqlite(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, rate_limit_per_minute="0", rate_limit_per_hour="0", max_per_system="2")


@pytest.fixture
def tenant(settings: Settings) -> Tenant:
    return provision(settings)[0]


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    with live_server(settings) as base:
        yield base


def post(base: str, tenant: Tenant, body: bytes, **headers: str) -> httpx.Response:
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return httpx.post(base + URL, content=body, auth=tenant.auth, headers=named, timeout=60)


def b64(data: bytes, algorithm: str = "sha256") -> str:
    return base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


def error_key(answer: httpx.Response) -> str:
    key: str = answer.json()["data"]["errors"][0]["key"]
    return key


def test_the_same_body_again_answers_200_with_the_stored_backup_and_evicts_nothing(
    settings: Settings, tenant: Tenant, server: str
) -> None:
    older = post(server, tenant, pgp(3000)).json()["data"]
    body = pgp(5000)
    first = post(server, tenant, body, X_Filename="daily.tar.gz.gpg")
    again = [post(server, tenant, body, X_Filename="daily.tar.gz.gpg") for _ in range(5)]
    assert first.status_code == 201
    for answer in again:
        assert answer.status_code == 200
        assert answer.json()["message"] == "backup already stored"
        assert answer.json()["data"] == first.json()["data"]
        assert answer.headers["Location"] == f"{URL}/{first.json()['data']['id']}"
        assert answer.headers["Repr-Digest"] == f"sha-256=:{b64(body)}:"
    # Two slots: the older backup survives five retries.
    assert sorted(b.id for b in stored(settings, tenant)) == sorted([older["id"], first.json()["data"]["id"]])
    assert len(object_files(settings)) == 2


def test_identical_uploads_racing_each_other_store_exactly_one(settings: Settings, tenant: Tenant, server: str) -> None:
    body = pgp(200_000)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: post(server, tenant, body), range(6)))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len({a.json()["data"]["id"] for a in answers}) == 1
    assert len(stored(settings, tenant)) == 1
    assert len(object_files(settings)) == 1
    assert states(settings, tenant) == {"stored": 1}


def test_an_idempotency_key_replays_the_first_upload_and_refuses_another_body(
    settings: Settings, tenant: Tenant, server: str
) -> None:
    body = pgp(4000)
    key = '"8e03978e-40d5-43e8-bc93-6894a57f9324"'
    first = post(server, tenant, body, Idempotency_Key=key)
    replay = post(server, tenant, body, Idempotency_Key=key)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["data"] == first.json()["data"]
    assert replay.headers["Repr-Digest"] == f"sha-256=:{b64(body)}:"
    other = post(server, tenant, pgp(4000), Idempotency_Key=key)
    assert other.status_code == 422
    assert error_key(other) == "Idempotency-Key"
    # The bare token form names the same key.
    assert post(server, tenant, body, Idempotency_Key="8e03978e-40d5-43e8-bc93-6894a57f9324").status_code == 201
    assert [b.id for b in stored(settings, tenant)] == [first.json()["data"]["id"]]
    assert len(object_files(settings)) == 1
    assert states(settings, tenant) == {"stored": 1}


def states(settings: Settings, tenant: Tenant) -> dict[str, int]:
    """The tenant's backup rows by state, on whichever database the settings name."""

    async def read() -> dict[str, int]:
        engine = make_engine(settings.database_url)
        try:
            rows = await SqlMaintenanceCatalog(engine).all_backups()
            return dict(Counter(row.state.value for row in rows if row.org_id == tenant.org_id))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_a_key_older_than_24_hours_no_longer_counts(sqlite: Settings) -> None:
    tenant = provision(sqlite)[0]
    clock = FrozenClock(datetime.now(UTC))
    with live_server(sqlite, Overrides(clock=clock)) as base:
        first = post(base, tenant, pgp(2000), Idempotency_Key="weekly")
        clock.advance(24 * 3600 - 1)
        assert post(base, tenant, pgp(2000), Idempotency_Key="weekly").status_code == 422
        clock.advance(2)
        later = post(base, tenant, pgp(2000), Idempotency_Key="weekly")
    assert (first.status_code, later.status_code) == (201, 201)
    assert later.json()["data"]["id"] != first.json()["data"]["id"]
    assert len(stored(sqlite, tenant)) == 2


@pytest.mark.parametrize(
    "key",
    ["", '""', "two words", "x" * 256, '"unterminated', '"bad\\escape"', "caf\u00e9"],
    ids=["empty", "empty-string", "space", "too-long", "unterminated", "bad-escape", "not-ascii"],
)
def test_a_malformed_idempotency_key_is_400_and_nothing_is_stored(sqlite: Settings, key: str, tmp_path: Path) -> None:
    tenant = provision(sqlite)[0]
    with live_server(sqlite) as base:
        head = (
            f"POST {URL} HTTP/1.1\r\nHost: t\r\nAuthorization: {tenant.basic}\r\n"
            f"Idempotency-Key: {key}\r\nContent-Length: 100\r\nConnection: close\r\n\r\n"
        ).encode()
        answer = raw_request(base, head, [pgp(100)])
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b'"key":"Idempotency-Key"' in answer
    assert object_files(sqlite) == []


def test_a_key_still_in_flight_is_409_before_its_body_is_read(sqlite: Settings) -> None:
    tenant = provision(sqlite)[0]
    auth = tenant.basic
    head = (
        f"POST {URL} HTTP/1.1\r\nHost: t\r\nAuthorization: {auth}\r\nIdempotency-Key: nightly-1\r\n"
        "Content-Length: 1000000\r\n\r\n"
    ).encode()
    host, port = "", 0
    with live_server(sqlite) as base:
        host, port_text = base.removeprefix("http://").split(":")
        port = int(port_text)
        with socket.create_connection((host, port), timeout=10) as first:
            first.sendall(head + pgp(1000))
            wait_until(lambda: rows_by_state(sqlite).get("uploading") == 1)
            # The second attempt sends its headers only: the answer must come without any body byte.
            answer = raw_request(base, head)
            assert answer.startswith(b"HTTP/1.1 409"), answer[:200]
            assert b'"key":"Idempotency-Key"' in answer
            first.sendall(b"\x00" * (1_000_000 - 1000))
            reply = first.recv(65536)
        assert reply.startswith(b"HTTP/1.1 201"), reply[:200]
    assert len(stored(sqlite, tenant)) == 1


@pytest.mark.parametrize("header", ["Content-Digest", "Repr-Digest"])
def test_declared_digests_are_verified_and_a_mismatch_is_400_keyed_by_the_header(sqlite: Settings, header: str) -> None:
    tenant = provision(sqlite)[0]
    body, other = pgp(3000), pgp(3000)
    with live_server(sqlite) as base:
        wrong_256 = post(base, tenant, body, **{header.replace("-", "_"): f"sha-256=:{b64(other)}:"})
        wrong_512 = post(
            base, tenant, body, **{header.replace("-", "_"): f"sha-256=:{b64(body)}:, sha-512=:{b64(other, 'sha512')}:"}
        )
        assert object_files(sqlite) == []
        right = post(
            base,
            tenant,
            body,
            **{header.replace("-", "_"): f"md5=:AAAA:, sha-512=:{b64(body, 'sha512')}:, sha-256=:{b64(body)}:"},
        )
    for wrong in (wrong_256, wrong_512):
        assert wrong.status_code == 400
        assert error_key(wrong) == header
    assert right.status_code == 201
    assert right.headers["Repr-Digest"] == f"sha-256=:{b64(body)}:"
    assert len(stored(sqlite, tenant)) == 1
    assert rows_by_state(sqlite) == {"stored": 1}


@pytest.mark.parametrize(
    "value",
    ["sha-256=:not base64!:", "sha-256=:AAAA:", "sha-256=abc", "SHA-256=:x:", "sha-256=:" + "A" * 44 + ":,,"],
    ids=["bad-base64", "short", "not-bytes", "uppercase-key", "empty-member"],
)
def test_a_malformed_digest_field_is_400(sqlite: Settings, value: str) -> None:
    tenant = provision(sqlite)[0]
    with live_server(sqlite) as base:
        answer = post(base, tenant, pgp(100), Content_Digest=value)
    assert answer.status_code == 400
    assert error_key(answer) == "Content-Digest"
    assert object_files(sqlite) == []


# --- the NethServer 8 client, retried after its first answer was lost -------------------------------


class LosesFirstAnswer:
    """A loopback TCP proxy to `target` that forwards the first connection's request but swallows the
    server's answer (a timeout the client sees), and forwards later connections both ways."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.swallowed = threading.Event()
        self.connections = 0
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []

    def __enter__(self) -> LosesFirstAnswer:
        self._spawn(self._accept)
        return self

    def __exit__(self, *_: object) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept loop; close alone would not
        self.listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=10)
        for sock in self._sockets:
            sock.close()

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                self.connections += 1
                upstream = socket.create_connection(self.target, timeout=30)
                self._sockets += [client, upstream]
                self._spawn(_pump, client, upstream, None)
                self._spawn(_pump, upstream, client, self.swallowed if self.connections == 1 else None)


def _pump(source: socket.socket, sink: socket.socket, swallow: threading.Event | None) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            if swallow is None:
                sink.sendall(data)
            else:
                swallow.set()
        if swallow is None:
            sink.shutdown(socket.SHUT_WR)


def test_the_nethserver_8_curl_line_retried_after_a_lost_answer_stores_one_backup(
    sqlite: Settings, tmp_path: Path
) -> None:
    tenant = provision(sqlite)[0]
    backup = tmp_path / "dump.json.gz.gpg"
    backup.write_bytes(pgp(300_000))
    with live_server(sqlite) as base:
        older = post(base, tenant, pgp(1000)).json()["data"]["id"]
        host, port = base.removeprefix("http://").split(":")
        with LosesFirstAnswer((host, int(port))) as proxy:
            # NS8 runs `curl -m 900 --retry 3 --data-binary @file`; -m 3 makes the lost answer a timeout here.
            curl = subprocess.run(
                [
                    "curl", "-sS", "-m", "3", "--retry", "3", "--retry-delay", "1",
                    "-u", f"{tenant.key}:{tenant.secret}", "-H", "X-Filename: dump.json.gz.gpg",
                    "--data-binary", f"@{backup}", f"http://127.0.0.1:{proxy.port}{URL}",
                ],
                capture_output=True,
                timeout=60,
                check=False,
            )  # fmt: skip
            assert proxy.swallowed.is_set()
            assert proxy.connections == 2
    assert curl.returncode == 0, curl.stderr
    answer = httpx.Response(200, content=curl.stdout).json()
    assert answer["code"] == 200
    assert answer["message"] == "backup already stored"
    kept = stored(sqlite, tenant)
    assert sorted(b.id for b in kept) == sorted([older, answer["data"]["id"]])
    assert len(object_files(sqlite)) == 2


def test_a_retry_at_an_org_near_its_quota_is_the_stored_backup_not_a_413(tmp_path: Path) -> None:
    near_quota = settings_for(tmp_path, rate_limit_per_minute="0", rate_limit_per_hour="0", max_size_per_org="10000")
    tenant = provision(near_quota)[0]
    body = pgp(6000)
    with live_server(near_quota) as base:
        first = post(base, tenant, body)
        retry = post(base, tenant, body)
        other = post(base, tenant, pgp(6000))
    assert first.status_code == 201
    assert retry.status_code == 200, retry.text
    assert retry.json()["data"]["id"] == first.json()["data"]["id"]
    assert other.status_code == 413
    assert other.json()["data"]["errors"][0]["key"] == "org_quota"
    assert [b.id for b in stored(near_quota, tenant)] == [first.json()["data"]["id"]]
