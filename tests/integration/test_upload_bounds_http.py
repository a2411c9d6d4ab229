"""Bounds on uploads in flight, through real sockets: silent bodies end at once, one system's uploads are capped."""

from __future__ import annotations

import json
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from adapters.objectstore.obstore_adapter import ObstoreObjectStore
from adapters.objectstore.urls import store_from_url
from app.composition import Overrides
from app.settings import Settings
from tests.integration.live import Tenant, live_server, object_files, provision, rows_by_state, settings_for, wait_until
from tests.integration.services import S3Service
from tests.unit.fakes import pgp

URL = "/api/systems/backups"


def start_upload(url: str, tenant: Tenant, declared: int, first: bytes) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=20)
    auth = tenant.basic
    sock.sendall(
        f"POST {URL} HTTP/1.1\r\nHost: t\r\nAuthorization: {auth}\r\nContent-Length: {declared}\r\n\r\n".encode()
    )
    sock.sendall(first)
    return sock


def answer_of(sock: socket.socket) -> tuple[int, bytes, dict[str, object]]:
    answer = b""
    while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < content_length(answer):
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.lower(), json.loads(body)


def content_length(answer: bytes) -> int:
    for line in answer.partition(b"\r\n\r\n")[0].lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(
        tmp_path,
        body_idle_timeout="2s",
        max_uploads_per_system="2",
        rate_limit_per_minute="3",
        rate_limit_per_hour="0",
    )


@pytest.fixture
def site(settings: Settings) -> Iterator[tuple[str, Tenant]]:
    tenant = provision(settings)[0]
    with live_server(settings) as url:
        yield url, tenant


def test_a_body_silent_past_the_idle_timeout_is_408_and_leaves_nothing(
    settings: Settings, site: tuple[str, Tenant]
) -> None:
    url, tenant = site
    started = time.monotonic()
    with start_upload(url, tenant, 100_000_000, pgp(1024 * 1024)) as stalled:
        status, head, document = answer_of(stalled)
        waited = time.monotonic() - started
        assert stalled.recv(1) == b""  # and the connection is closed
    assert status == 408
    assert document["code"] == 408
    assert b"connection: close" in head
    assert 2 <= waited < 6
    # At once, not an hour later by the reaper: no intent row, no object, no temp file.
    assert rows_by_state(settings) == {}
    assert object_files(settings) == []


def test_a_slow_but_steady_body_is_not_cut_off(settings: Settings, site: tuple[str, Tenant]) -> None:
    url, tenant = site
    body = pgp(8 * 1024)
    with start_upload(url, tenant, len(body), body[:2048]) as slow:
        for start in range(2048, len(body), 2048):
            time.sleep(1)  # the client's pace: a chunk a second, under the 2 s idle timeout, 3 s in all
            slow.sendall(body[start : start + 2048])
        status, _, document = answer_of(slow)
    assert status == 201, document
    assert rows_by_state(settings) == {"stored": 1}


def test_a_third_upload_of_one_system_in_flight_is_429_and_spends_no_slot(
    settings: Settings, site: tuple[str, Tenant]
) -> None:
    url, tenant = site
    bodies = [pgp(64 * 1024), pgp(64 * 1024)]
    with ExitStack() as stack:
        inflight = [stack.enter_context(start_upload(url, tenant, len(b), b[:1024])) for b in bodies]
        wait_until(lambda: rows_by_state(settings) == {"uploading": 2})  # both admitted, streaming
        refused = httpx.post(url + URL, content=pgp(100), auth=tenant.auth, timeout=10)
        assert refused.status_code == 429
        assert refused.json()["message"] == "too many uploads in flight"  # not the rate limit's
        assert refused.headers["Retry-After"] == "30"
        assert refused.json()["data"] == {"retry_after_seconds": 30}
        for sock, body in zip(inflight, bodies, strict=True):
            sock.sendall(body[1024:])
            assert answer_of(sock)[0] == 201
    # Three slots a minute: two went to the uploads above, the refused one spent none.
    assert httpx.post(url + URL, content=pgp(100), auth=tenant.auth, timeout=10).status_code == 201
    assert httpx.post(url + URL, content=pgp(100), auth=tenant.auth, timeout=10).status_code == 429


def test_another_system_is_not_held_back_by_a_busy_one(settings: Settings) -> None:
    busy, other = provision(settings, systems=2)
    with live_server(settings) as url, ExitStack() as stack:
        for _ in range(2):
            stack.enter_context(start_upload(url, busy, 10_000, pgp(1024)))
        assert httpx.post(url + URL, content=pgp(100), auth=other.auth, timeout=10).status_code == 201


def test_a_silent_body_on_s3_is_408_and_leaves_no_object_nor_open_multipart(tmp_path: Path, s3: S3Service) -> None:
    where = f"idle-{secrets.token_hex(4)}"
    settings = settings_for(tmp_path, body_idle_timeout="2s", rate_limit_per_minute="0", rate_limit_per_hour="0")
    tenant = provision(settings)[0]
    objects = ObstoreObjectStore(store_from_url(s3.url(where), env=s3.env))
    # Past one 6 MiB part, so a multipart upload is open when the body goes silent.
    with (
        live_server(settings, Overrides(objects=objects)) as url,
        start_upload(url, tenant, 100_000_000, pgp(8 * 1024 * 1024)) as stalled,
    ):
        status, _, _ = answer_of(stalled)
    assert status == 408
    assert rows_by_state(settings) == {}
    assert s3.pending_multipart_uploads(where) == []
    assert [o.key for o in s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=where).get("Contents", [])] == []
