"""Caps, rate limits, quotas, retention and failures of the upload, through real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.runtime.clock import SystemClock
from adapters.sql import SqlBackupCatalog, SqlSystemDirectory, make_engine
from app.composition import Overrides
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
    run,
    settings_for,
    stored,
    wait_until,
)
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


def test_the_seventh_upload_in_a_minute_is_429_and_not_stored(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    tenant = provision(settings)[0]
    with live_server(settings) as server, client(server, tenant) as http:
        assert [upload(http).status_code for _ in range(6)] == [201] * 6
        refused = upload(http)
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert refused.json()["data"] == {"retry_after_seconds": retry_after}
    assert refused.json()["code"] == 429
    assert len(stored(settings, tenant)) == 6
    assert len(object_files(settings)) == 6


def test_the_sixty_first_upload_in_an_hour_is_429(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, rate_limit_per_minute="0")
    tenant = provision(settings)[0]
    with live_server(settings) as server, client(server, tenant) as http:
        assert all(upload(http, 10).status_code == 201 for _ in range(60))
        refused = upload(http, 10)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600


def test_refused_bodies_still_spend_rate_limit_slots(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    tenant = provision(settings)[0]
    with live_server(settings) as server, client(server, tenant) as http:
        assert [http.post(URL, content=b"plain").status_code for _ in range(6)] == [400] * 6
        assert upload(http).status_code == 429


def test_rate_limits_are_per_system(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, rate_limit_per_minute="1")
    first, second = provision(settings, systems=2)
    with live_server(settings) as server:
        with client(server, first) as http:
            assert upload(http).status_code == 201
            assert upload(http).status_code == 429
        with client(server, second) as http:
            assert upload(http).status_code == 201


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


def test_the_org_quota_is_413_across_its_systems(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, max_size_per_org="1000", **NO_RATE_LIMIT)
    first, second = provision(settings, systems=2)
    with live_server(settings) as server:
        with client(server, first) as http:
            assert upload(http, 600).status_code == 201
        with client(server, second) as http:
            refused = upload(http, 500)
            chunked = http.post(URL, content=iter([pgp(300), pgp(200)]))
    for answer in (refused, chunked):
        assert answer.status_code == 413
        assert error_key(answer) == "org_quota"
        assert "600" not in answer.text
    assert stored(settings, second) == []
    assert org_used_bytes(settings, first.org_id) == 600


def test_an_org_rotating_near_its_quota_is_not_locked_out(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, max_per_system="3", **NO_RATE_LIMIT)
    tenant = provision(settings, quota=300)[0]
    with live_server(settings) as server, client(server, tenant) as http:
        assert [upload(http, 100).status_code for _ in range(8)] == [201] * 8
    assert org_used_bytes(settings, tenant.org_id) == 300
    assert len(stored(settings, tenant)) == 3


def test_a_suspended_system_is_401(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    tenant = provision(settings)[0]

    async def suspend(container: Any) -> None:
        await container.directory.set_suspended(tenant.key, True)

    run(settings, suspend)
    with live_server(settings) as server, client(server, tenant) as http:
        assert upload(http).status_code == 401


def test_an_unreachable_database_is_503(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    tenant = provision(settings)[0]
    engine = make_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    overrides = Overrides(directory=SqlSystemDirectory(engine), catalog=SqlBackupCatalog(engine), clock=SystemClock())
    with live_server(settings, overrides) as server, client(server, tenant) as http:
        answer = upload(http)
        ready = http.get("/api/ready")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
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


def test_health_and_ready_answer(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with live_server(settings) as server:
        assert httpx.get(server + "/api/health").json() == {"code": 200, "message": "ok", "data": {"status": "ok"}}
        ready = httpx.get(server + "/api/ready")
    assert ready.status_code == 200
    assert ready.json()["data"] == {"database": "ok", "object_store": "ok"}


@pytest.mark.parametrize("path", ["/api/nope", "/api/systems/backups/x/y"])
def test_unknown_routes_answer_in_the_envelope(tmp_path: Path, path: str) -> None:
    with live_server(settings_for(tmp_path)) as server:
        answer = httpx.get(server + path)
    assert answer.status_code == 404
    assert answer.json()["code"] == 404
