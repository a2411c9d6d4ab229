"""POST /api/systems/backups through real HTTP on the embedded default (SQLite + local files): the seed
example on disk, a chunked upload over a real socket, readiness with the object directory gone. The
refusals (credentials, empty and non-OpenPGP bodies, armor, UTF-8 names) are pinned in process:
tests/unit/test_upload_http.py."""

from __future__ import annotations

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


def test_ready_is_503_when_the_object_directory_is_gone(settings: Settings, server: str) -> None:
    root = Path(settings.storage_url.removeprefix("file://"))
    root.rmdir()
    root.write_bytes(b"not a directory")
    ready = httpx.get(server + "/api/ready")
    assert ready.status_code == 503
    assert ready.json()["data"] == {"database": "ok", "object_store": "error"}
