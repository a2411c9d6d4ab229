"""Caps, retention and failures of the upload through real HTTP on the embedded default (SQLite, local
files): what the socket or the files on disk prove; an unreachable database is PostgreSQL behind a cable the
test pulls. Rate limits, quotas, suspension, health and unknown
routes are pinned in process: tests/unit/test_upload_limits_http.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from app.settings import Settings
from tests.integration.live import (
    Tenant,
    client,
    live_server,
    object_files,
    org_used_bytes,
    provision,
    raw_request,
    rows_by_state,
    settings_for,
    stored,
    wait_until,
)
from tests.integration.services import TcpProxy
from tests.unit.fakes import pgp

URL = "/api/systems/backups"
NO_RATE_LIMIT = {"rate_limit_per_minute": "0", "rate_limit_per_hour": "0"}


def upload(http: httpx.Client, size: int = 100, **kw: Any) -> httpx.Response:
    return http.post(URL, content=pgp(size), **kw)


def error_key(answer: httpx.Response) -> str:
    key: str = answer.json()["data"]["errors"][0]["key"]
    return key


def nothing_kept(settings: Settings, tenant: Tenant) -> None:
    assert object_files(settings) == []
    assert rows_by_state(settings) == {}
    assert org_used_bytes(settings, tenant.org_id) == 0


def test_declared_length_over_the_cap_is_413_before_the_body_is_read(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, max_upload_size="1MiB")
    tenant = provision(settings)[0]
    head = (
        f"POST {URL} HTTP/1.1\r\nHost: t\r\nAuthorization: Basic "
        + tenant.basic.removeprefix("Basic ")
        + "\r\nContent-Length: 1048577\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    with live_server(settings) as server:
        answer = raw_request(server, head)
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large"
    assert b"100 Continue" not in answer
    with live_server(settings) as server, client(server, tenant) as http:
        refused = http.post(URL, content=pgp(1024 * 1024 + 1))
        assert refused.status_code == 413
        assert error_key(refused) == "Content-Length"
        assert refused.json()["data"]["details"] == {"limit_bytes": 1024 * 1024}
        assert refused.json()["data"]["errors"][0]["value"] == str(1024 * 1024 + 1)
    nothing_kept(settings, tenant)


def test_an_upload_larger_than_the_system_size_cap_is_413_up_front(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, max_upload_size="1MiB", max_size_per_system="1000")
    tenant = provision(settings)[0]
    with live_server(settings) as server, client(server, tenant) as http:
        refused = upload(http, 1001)
        assert refused.status_code == 413
        assert error_key(refused) == "Content-Length"
        assert upload(http, 1000).status_code == 201


def test_a_chunked_body_crossing_the_cap_is_413_and_leaves_nothing(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, max_upload_size="256KiB")
    tenant = provision(settings)[0]

    def body() -> Iterator[bytes]:
        for _ in range(10):
            yield pgp(64 * 1024)

    with live_server(settings) as server, client(server, tenant) as http:
        refused = http.post(URL, content=body())
        assert refused.status_code == 413
        assert error_key(refused) == "body"
        assert refused.json()["code"] == 413
    nothing_kept(settings, tenant)


def test_the_oldest_backups_are_pruned_past_the_slot_cap(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, max_per_system="3", **NO_RATE_LIMIT)
    tenant = provision(settings)[0]
    with live_server(settings) as server, client(server, tenant) as http:
        ids = [upload(http).json()["data"]["id"] for _ in range(5)]
    assert [b.id for b in stored(settings, tenant)] == ids[-3:]
    assert sorted(p.name for p in object_files(settings)) == sorted(ids[-3:])
    assert org_used_bytes(settings, tenant.org_id) == 300


def test_the_oldest_backups_are_pruned_past_the_size_cap(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, max_size_per_system="1000", **NO_RATE_LIMIT)
    tenant = provision(settings)[0]
    with live_server(settings) as server, client(server, tenant) as http:
        ids = [upload(http, 400).json()["data"]["id"] for _ in range(3)]
        newest = upload(http, 600).json()["data"]["id"]
    assert [b.id for b in stored(settings, tenant)] == [ids[2], newest]
    assert org_used_bytes(settings, tenant.org_id) == 1000


def test_an_unreachable_database_is_503(postgres_url: str, tmp_path: Path) -> None:
    """PostgreSQL reached through a cable the test pulls once the server runs: the upload and /api/ready
    answer 503 with Retry-After, and the object store is still reported fine."""
    target = make_url(postgres_url)
    with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as cable:
        url = target.set(host="127.0.0.1", port=cable.port).update_query_dict({"command_timeout": "5"})
        settings = settings_for(tmp_path, database_url=url.render_as_string(hide_password=False))
        tenant = provision(settings)[0]
        with live_server(settings) as server, client(server, tenant) as http:
            cable.cut()
            answer = upload(http)
            ready = http.get("/api/ready")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
    assert answer.json()["data"]["dependency"] == "database"
    assert ready.status_code == 503
    assert ready.json()["data"] == {"database": "error", "object_store": "ok"}


def test_a_client_gone_mid_body_leaves_nothing(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    tenant = provision(settings)[0]
    head = (
        f"POST {URL} HTTP/1.1\r\nHost: t\r\nAuthorization: " + tenant.basic + "\r\nContent-Length: 10000000\r\n\r\n"
    ).encode()
    with live_server(settings) as server:
        raw_request(server, head, [pgp(6 * 1024 * 1024)], close_early=True)
        wait_until(lambda: rows_by_state(settings) == {} and object_files(settings) == [])
        with client(server, tenant) as http:
            assert http.get("/api/health").status_code == 200
    nothing_kept(settings, tenant)
