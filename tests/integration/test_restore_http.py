"""Restore through real HTTP on the embedded default: a large backup listed, downloaded whole and by ranges
from local files, and the usage a delete frees on SQLite. Ranges, names, 404s, malformed ids, credentials and
append-only are pinned in process: tests/unit/test_restore_http.py."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.settings import Settings
from tests.integration.live import (
    Tenant,
    client,
    live_server,
    object_files,
    org_used_bytes,
    provision,
    rows_by_state,
    settings_for,
)
from tests.unit.fakes import pgp
from tests.unit.http_answers import store

URL = "/api/systems/backups"
NO_RATE_LIMIT = {"rate_limit_per_minute": "0", "rate_limit_per_hour": "0"}
MISSING_ID = "01900000-0000-7000-8000-000000000000.tar.gz"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, **NO_RATE_LIMIT)


@pytest.fixture
def tenants(settings: Settings) -> list[Tenant]:
    return provision(settings, systems=2)


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    with live_server(settings) as url:
        yield url


def test_a_restore_works_end_to_end_whole_and_by_ranges(server: str, tenants: list[Tenant]) -> None:
    body = pgp(3 * 1024 * 1024 + 12345)  # several read chunks
    with client(server, tenants[0]) as http:
        older = store(http, pgp(1000), "older.json.gpg")
        backup_id = store(http, body)

        listing = http.get(URL)
        assert listing.status_code == 200
        assert listing.json()["code"] == 200
        data = listing.json()["data"]
        assert [b["id"] for b in data["backups"]] == [backup_id, older]
        # The appliance's shape: no operator audit data (uploader_ip) in it.
        assert set(data["backups"][0]) == {"id", "filename", "size", "sha256", "mimetype", "uploaded_at"}
        assert data["backups"][0]["filename"] == "daily.tar.gz"
        assert data["usage"] == {
            "count": 2,
            "total_size": len(body) + 1000,
            "max_count": 10,
            "max_total_size": 500 * 1024 * 1024,
        }

        whole = http.get(f"{URL}/{backup_id}")
        assert whole.status_code == 200
        assert whole.content == body
        digest = hashlib.sha256(body).digest()
        assert whole.headers["Content-Type"] == "application/octet-stream"
        assert whole.headers["X-Content-Type-Options"] == "nosniff"
        assert whole.headers["Content-Disposition"] == 'attachment; filename="daily.tar.gz.gpg"'
        assert whole.headers["Content-Length"] == str(len(body))
        assert whole.headers["ETag"] == f'"{digest.hex()}"'
        assert whole.headers["Repr-Digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
        assert "Content-Range" not in whole.headers

        size = len(body)
        for header, start, end in [
            ("bytes=0-99", 0, 100),
            ("bytes=100-", 100, size),
            ("bytes=-50", size - 50, size),
            ("bytes=1048570-1048590", 1048570, 1048591),
            ("bytes=0-99999999999", 0, size),
        ]:
            part = http.get(f"{URL}/{backup_id}", headers={"Range": header})
            assert part.status_code == 206, header
            assert part.content == body[start:end], header
            assert part.headers["Content-Range"] == f"bytes {start}-{end - 1}/{size}"
            assert part.headers["Content-Length"] == str(end - start)
            assert part.headers["Repr-Digest"] == whole.headers["Repr-Digest"]

        # A resumed restore: what arrived before the break, then the rest by range.
        first = http.get(f"{URL}/{backup_id}", headers={"Range": "bytes=0-2000000"}).content
        rest = http.get(
            f"{URL}/{backup_id}", headers={"Range": f"bytes={len(first)}-", "If-Range": whole.headers["ETag"]}
        )
        assert rest.status_code == 206
        assert first + rest.content == body


def test_delete_frees_usage_so_a_refused_upload_now_fits(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, **NO_RATE_LIMIT)
    tenant = provision(settings, quota=1000)[0]
    with live_server(settings) as server, client(server, tenant) as http:
        first = store(http, pgp(800))
        refused = http.post(URL, content=pgp(800))
        assert refused.status_code == 413
        assert refused.json()["data"]["errors"][0]["key"] == "org_quota"

        deleted = http.delete(f"{URL}/{first}")
        assert deleted.status_code == 200
        assert deleted.json() == {"code": 200, "message": "backup deleted", "data": {"id": first}}
        assert org_used_bytes(settings, tenant.org_id) == 0
        assert http.get(f"{URL}/{first}").status_code == 404
        assert http.get(URL).json()["data"]["usage"]["count"] == 0

        second = store(http, pgp(800))
    assert org_used_bytes(settings, tenant.org_id) == 800
    assert rows_by_state(settings) == {"stored": 1}
    assert [p.name for p in object_files(settings)] == [second]
