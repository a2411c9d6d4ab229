"""POST /api/systems/backups through real HTTP on the embedded default (SQLite + local files)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.integration.live import (
    Tenant,
    client,
    live_server,
    object_files,
    provision,
    settings_for,
    stored,
)
from tests.unit.fakes import pgp

URL = "/api/systems/backups"
SEED_NAME = "daily-backup-2026-04-12.tar.gz.gpg"
UUID7 = r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, rate_limit_per_minute="0", rate_limit_per_hour="0")


@pytest.fixture
def tenant(settings: Settings) -> Tenant:
    return provision(settings)[0]


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    with live_server(settings) as url:
        yield url


def chunked(*parts: bytes) -> Iterator[bytes]:
    yield from parts


def test_seed_example_is_stored_with_the_derived_names(settings: Settings, tenant: Tenant, server: str) -> None:
    body = pgp(82_944)
    with client(server, tenant) as http:
        answer = http.post(URL, content=body, headers={"X-Filename": SEED_NAME})
    assert answer.status_code == 201
    envelope = answer.json()
    assert envelope["code"] == 201
    assert envelope["message"] == "backup stored"
    data = envelope["data"]
    assert set(data) == {"id", "filename", "size", "sha256", "mimetype", "uploaded_at"}
    assert re.fullmatch(UUID7 + r"\.tar\.gz", data["id"])
    assert data["filename"] == "daily-backup-2026-04-12.tar.gz"
    assert data["mimetype"] == "application/gzip"
    assert data["size"] == len(body)
    assert data["sha256"] == hashlib.sha256(body).hexdigest()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["uploaded_at"])
    assert datetime.fromisoformat(data["uploaded_at"]).utcoffset() is not None
    assert answer.headers["Location"] == f"{URL}/{data['id']}"
    obj = Path(settings.storage_url.removeprefix("file://")) / tenant.org_id / tenant.key / data["id"]
    assert obj.read_bytes() == body
    assert object_files(settings) == [obj]


def test_chunked_upload_streams_and_is_counted(settings: Settings, tenant: Tenant, server: str) -> None:
    parts = [pgp(70_000), pgp(70_000), pgp(5)]
    with client(server, tenant) as http:
        answer = http.post(URL, content=chunked(*parts), headers={"X-Filename": "fw.xml"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["data"]["size"] == 140_005
    assert answer.json()["data"]["sha256"] == hashlib.sha256(b"".join(parts)).hexdigest()
    assert answer.json()["data"]["mimetype"] == "application/xml"


def basic(value: str) -> str:
    return "Basic " + base64.b64encode(value.encode()).decode()


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer abc", "Basic !!!notbase64", "Basic " + base64.b64encode(b"no-colon").decode(), "wrong-secret"],
)
def test_bad_credentials_are_401_with_a_basic_challenge(
    tenant: Tenant, server: str, authorization: str | None, settings: Settings
) -> None:
    headers = {}
    if authorization == "wrong-secret":
        headers["Authorization"] = basic(f"{tenant.key}:{tenant.secret}x")
    elif authorization is not None:
        headers["Authorization"] = authorization
    answer = httpx.post(server + URL, content=pgp(100), headers=headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert answer.json() == {"code": 401, "message": "invalid credentials", "data": {}}
    assert object_files(settings) == []


def test_unknown_system_is_401(server: str) -> None:
    answer = httpx.post(server + URL, content=pgp(100), auth=("nobody", "secret"))
    assert answer.status_code == 401


def validation_error(answer: httpx.Response, status: int, key: str) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    envelope = answer.json()
    assert envelope["code"] == status
    data = envelope["data"]
    assert data["type"] == "validation_error"
    assert [error["key"] for error in data["errors"]] == [key]
    assert set(data["errors"][0]) == {"key", "message", "value"}
    assert "details" in data
    result: dict[str, object] = data
    return result


def test_empty_body_is_400(tenant: Tenant, server: str, settings: Settings) -> None:
    with client(server, tenant) as http:
        validation_error(http.post(URL, content=b""), 400, "body")
        validation_error(http.post(URL, content=chunked(b"")), 400, "body")
    assert stored(settings, tenant) == []


@pytest.mark.parametrize("body", [gzip.compress(b"hostname fw1\n" * 100), b"plain text config", b"PK\x03\x04zip"])
def test_a_body_that_is_not_openpgp_is_400(tenant: Tenant, server: str, settings: Settings, body: bytes) -> None:
    with client(server, tenant) as http:
        validation_error(http.post(URL, content=body), 400, "body")
    assert object_files(settings) == []
    assert stored(settings, tenant) == []


def test_armored_messages_are_accepted(tenant: Tenant, server: str) -> None:
    body = b"\n-----BEGIN PGP MESSAGE-----\n\nhQEMA1234\n-----END PGP MESSAGE-----\n"
    with client(server, tenant) as http:
        assert http.post(URL, content=body, headers={"X-Filename": "cfg.txt.asc"}).status_code == 201


def test_openpgp_check_can_be_turned_off(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, require_openpgp="false")
    tenant = provision(settings)[0]
    with live_server(settings) as server, client(server, tenant) as http:
        assert http.post(URL, content=b"plain text").status_code == 201


def test_a_utf8_filename_counts_each_character_once(tenant: Tenant, server: str) -> None:
    with client(server, tenant) as http:
        answer = http.post(URL, content=pgp(100), headers={b"X-Filename": "ä-config.yml.gpg".encode()})
    assert answer.json()["data"]["filename"] == "_-config.yml"
    assert answer.json()["data"]["mimetype"] == "application/yaml"


def test_ready_is_503_when_the_object_directory_is_gone(settings: Settings, server: str) -> None:
    root = Path(settings.storage_url.removeprefix("file://"))
    root.rmdir()
    root.write_bytes(b"not a directory")
    ready = httpx.get(server + "/api/ready")
    assert ready.status_code == 503
    assert ready.json()["data"] == {"database": "ok", "object_store": "error"}
