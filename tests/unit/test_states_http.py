"""Schedules and states through HTTP (Litestar's test client on the in-memory adapters, a frozen clock):
each state as the admin API, the appliance's status endpoint and /metrics show it, computed when asked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from obstore.store import MemoryStore

from adapters.memory.catalog import InMemoryBackupCatalog
from adapters.memory.clock import FrozenClock
from adapters.memory.directory import InMemorySystemDirectory
from adapters.memory.ratelimit import InMemoryRateLimiter
from adapters.objectstore.obstore_adapter import ObstoreObjectStore
from app.asgi import app_for
from app.composition import Overrides, build
from app.settings import Settings
from tests.unit.fakes import pgp

TOKEN = "states-test-token-0123456789abcdef0123456789"
START = datetime(2026, 4, 12, 9, 0, tzinfo=UTC)
HOUR = 3600
Client = TestClient[Litestar]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def http(clock: FrozenClock) -> Iterator[Client]:
    settings = Settings.from_env(
        {
            "BACKUP_ADMIN_TOKEN": TOKEN,
            "BACKUP_RATE_LIMIT_PER_MINUTE": "0",
            "BACKUP_RATE_LIMIT_PER_HOUR": "0",
            "BACKUP_MAX_UPLOAD_SIZE": "10KiB",
            "BACKUP_MAX_PER_SYSTEM": "2",
        }
    )
    directory = InMemorySystemDirectory()

    overrides = Overrides(
        directory=directory,
        catalog=InMemoryBackupCatalog(directory.tables),
        objects=ObstoreObjectStore(MemoryStore()),
        limiter=InMemoryRateLimiter({}, clock),
        clock=clock,
    )
    with TestClient(app_for(build(settings, overrides)), base_url="http://testserver.local") as client:
        yield client


def admin(http: Client, method: str, path: str, json: object = None, status: int = 200) -> Any:
    answer = http.request(method, "/api/admin" + path, headers={"Authorization": f"Bearer {TOKEN}"}, json=json)
    assert answer.status_code == status, answer.text
    return answer.json()


def system(http: Client, key: str = "fw-1") -> tuple[str, tuple[str, str]]:
    org = admin(http, "POST", "/orgs", {"name": "acme"}, 201)["data"]["id"]
    created = admin(http, "POST", f"/orgs/{org}/systems", {"system_key": key}, 201)["data"]
    return org, (key, created["system_secret"])


def upload(http: Client, auth: tuple[str, str], body: bytes, **headers: str) -> httpx.Response:
    return http.post(
        "/api/systems/backups", content=body, auth=auth, headers={"X-Filename": "cfg.tar.gz.gpg", **headers}
    )


def state(http: Client, key: str = "fw-1") -> str:
    return str(admin(http, "GET", f"/systems/{key}")["data"]["state"])


def status(http: Client, auth: tuple[str, str]) -> dict[str, Any]:
    answer = http.get("/api/systems/status", auth=auth)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def test_a_system_goes_new_up_late_down_and_back_up_on_the_default_schedule(http: Client, clock: FrozenClock) -> None:
    _, auth = system(http)
    assert state(http) == "new"
    clock.advance(36 * HOUR + 1)
    assert state(http) == "down"  # never stored one for every + grace since it was created
    assert upload(http, auth, pgp(1000)).status_code == 201
    assert state(http) == "up"
    clock.advance(24 * HOUR + 1)
    assert state(http) == "late"
    clock.advance(12 * HOUR)
    assert state(http) == "down"
    assert [s["system_key"] for s in admin(http, "GET", "/stale")["data"]] == ["fw-1"]
    assert upload(http, auth, pgp(1001)).status_code == 201
    assert state(http) == "up"
    assert admin(http, "GET", "/stale")["data"] == []


def test_a_refused_upload_shows_failing_at_once_with_its_error_until_one_is_stored(
    http: Client, clock: FrozenClock
) -> None:
    _, auth = system(http)
    assert upload(http, auth, pgp(1000)).status_code == 201
    clock.advance(60)
    refused = upload(http, auth, b"plain text, not encrypted" * 10)
    assert refused.status_code == 400
    shown = admin(http, "GET", "/systems/fw-1")["data"]
    assert shown["state"] == "failing"
    error = refused.json()["data"]["errors"][0]
    assert shown["last_error"] == {
        "status": 400,
        "key": error["key"],
        "message": error["message"],
        "at": "2026-04-12T09:01:00Z",
    }
    assert shown["last_attempt_at"] == "2026-04-12T09:01:00Z"
    assert status(http, auth)["state"] == "failing"
    clock.advance(60)
    too_large = upload(http, auth, pgp(20_000))
    assert too_large.status_code == 413
    assert admin(http, "GET", "/systems/fw-1")["data"]["last_error"]["status"] == 413
    clock.advance(60)
    assert upload(http, auth, pgp(1001)).status_code == 201
    shown = admin(http, "GET", "/systems/fw-1")["data"]
    assert shown["state"] == "up"
    assert shown["last_error"]["status"] == 413  # kept as history; the state says it is over
    assert shown["last_attempt_at"] == shown["last_backup_at"] == "2026-04-12T09:03:00Z"


def test_a_reused_idempotency_key_counts_as_failing_and_a_key_in_flight_does_not(
    http: Client, clock: FrozenClock
) -> None:
    _, auth = system(http)
    assert upload(http, auth, pgp(1000), **{"Idempotency-Key": "k-1"}).status_code == 201
    clock.advance(60)
    reused = upload(http, auth, pgp(1001), **{"Idempotency-Key": "k-1"})
    assert reused.status_code == 422
    assert admin(http, "GET", "/systems/fw-1")["data"]["last_error"]["status"] == 422
    assert state(http) == "failing"


def test_wrong_credentials_and_a_suspended_system_record_nothing_and_paused_wins(http: Client) -> None:
    _, auth = system(http)
    assert upload(http, ("fw-1", "wrong"), b"x" * 10).status_code == 401
    assert admin(http, "GET", "/systems/fw-1")["data"]["last_error"] is None
    admin(http, "POST", "/systems/fw-1/suspend")
    assert state(http) == "paused"
    assert upload(http, auth, b"x" * 10).status_code == 401
    admin(http, "POST", "/systems/fw-1/resume")
    assert state(http) == "new"


def test_the_status_endpoint_is_the_appliances_own_view(http: Client, clock: FrozenClock) -> None:
    _, auth = system(http)
    assert status(http, auth) == {
        "state": "new",
        "last_backup_at": None,
        "next_expected_before": "2026-04-13T09:00:00Z",
        "backups": 0,
        "total_size": 0,
        "last_error": None,
    }
    clock.advance(HOUR)
    assert upload(http, auth, pgp(1000)).status_code == 201
    seen = status(http, auth)
    assert (seen["state"], seen["backups"], seen["total_size"]) == ("up", 1, 1000)
    assert (seen["last_backup_at"], seen["next_expected_before"]) == ("2026-04-12T10:00:00Z", "2026-04-13T10:00:00Z")
    assert http.get("/api/systems/status", auth=("fw-1", "wrong")).status_code == 401
    assert http.get("/api/systems/status").status_code == 401


def test_system_and_org_schedules_override_the_default_and_default_restores_it(
    http: Client, clock: FrozenClock
) -> None:
    org, auth = system(http)
    assert upload(http, auth, pgp(1000)).status_code == 201
    clock.advance(2 * HOUR)
    shown = admin(http, "PATCH", f"/orgs/{org}", {"expected_every": "1h", "grace": 1800})["data"]
    assert shown["id"] == org
    assert (state(http), admin(http, "GET", "/systems/fw-1")["data"]["expected_every"]) == ("down", 3600)
    seen = admin(http, "PATCH", "/systems/fw-1", {"expected_every": "90m"})["data"]
    # The system's own interval; the grace still its org's.
    assert (seen["state"], seen["expected_every"], seen["grace"]) == ("late", 5400, 1800)
    seen = admin(http, "PATCH", "/systems/fw-1", {})["data"]
    assert (seen["state"], seen["expected_every"]) == ("down", 3600)
    changes = admin(http, "GET", "/log?type=system.schedule_changed")["data"]["events"]
    assert [(e["system_key"], e["detail"]) for e in changes] == [
        ("fw-1", {"expected_every": 5400, "grace": None, "via": "admin"}),
        ("fw-1", {"expected_every": None, "grace": None, "via": "admin"}),
    ]
    admin(http, "PATCH", f"/orgs/{org}", {"expected_every": None, "grace": None})
    assert (state(http), admin(http, "GET", "/systems/fw-1")["data"]["expected_every"]) == ("up", 86400)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"expected_every": "soon"}, "expected_every"),
        ({"expected_every": 0}, "expected_every"),
        ({"grace": -5}, "grace"),
        ({"grace": "3 days"}, "grace"),
        ({"expected_every": True}, "expected_every"),
    ],
)
def test_a_bad_schedule_is_400_naming_the_field(http: Client, body: dict[str, object], key: str) -> None:
    org, _ = system(http)
    for path in ("/systems/fw-1", f"/orgs/{org}"):
        answer = admin(http, "PATCH", path, body, 400)
        assert answer["data"]["errors"][0]["key"] == key
    assert admin(http, "GET", "/systems/fw-1")["data"]["expected_every"] == 86400


def test_an_unknown_system_or_org_schedule_is_404(http: Client) -> None:
    admin(http, "PATCH", "/systems/nope", {"expected_every": "1h"}, 404)
    admin(http, "PATCH", "/orgs/nope", {"expected_every": "1h"}, 404)
    admin(http, "PATCH", "/orgs/nope", {}, 400)


def test_metrics_count_each_state(http: Client, clock: FrozenClock) -> None:
    _, auth = system(http)
    clock.advance(37 * HOUR)
    text = http.get("/metrics").text
    assert 'backup_collect_systems{state="down"} 1.0' in text
    assert 'backup_collect_systems{state="up"} 0.0' in text
    assert "backup_collect_stale_systems 1.0" in text
    assert upload(http, auth, pgp(1000)).status_code == 201
    text = http.get("/metrics").text
    assert 'backup_collect_systems{state="up"} 1.0' in text
    assert "backup_collect_stale_systems 0.0" in text
    assert 'backup_collect_http_responses_total{code="2xx"} ' in text
    assert 'backup_collect_http_responses_total{code="5xx"} 0.0' in text


def test_the_report_counts_each_systems_uploads_in_the_window_as_json_and_csv(http: Client, clock: FrozenClock) -> None:
    org, auth = system(http)
    body = pgp(1000)
    for payload in (pgp(900), body, body, pgp(1100)):  # stored, stored, duplicate, stored (prunes the first)
        assert upload(http, auth, payload).status_code in (200, 201)
        clock.advance(60)
    assert upload(http, auth, b"plain" * 50).status_code == 400
    clock.advance(60)
    (line,) = admin(http, "GET", "/report")["data"]["systems"]
    assert (line["system_key"], line["state"], line["backups"], line["total_size"]) == ("fw-1", "failing", 2, 2100)
    assert (line["stored"], line["duplicates"], line["refused"], line["pruned"]) == (3, 1, 1, 1)
    assert line["last_error"]["status"] == 400
    (org_line,) = admin(http, "GET", f"/report?org={org}")["data"]["orgs"]
    assert (org_line["id"], org_line["used_bytes"], org_line["quota_bytes"]) == (org, 2100, 100 * 1024**3)
    # A window that starts after all of it counts nothing, but still shows the state.
    (late,) = admin(http, "GET", "/report?since=30s")["data"]["systems"]
    assert (late["stored"], late["refused"], late["state"]) == (0, 0, "failing")
    answer = http.get("/api/admin/report?format=csv", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"  # one charset, not two
    assert "attachment" in answer.headers["content-disposition"]
    header, row = answer.text.strip().split("\r\n")
    assert header.split(",")[:6] == ["org_id", "org_name", "org_used_bytes", "org_quota_bytes", "system_key", "state"]
    assert row.split(",")[4:6] == ["fw-1", "failing"]
    assert admin(http, "GET", "/report?since=soon", status=400)["data"]["errors"][0]["key"] == "since"
    assert admin(http, "GET", "/report?format=xml", status=400)["data"]["errors"][0]["key"] == "format"
    admin(http, "GET", "/report?org=nope", status=404)


def test_the_deprecated_stale_after_prints_one_line_at_start(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.from_env({"BACKUP_STALE_AFTER": "36h", "BACKUP_ADMIN_TOKEN": TOKEN})
    directory = InMemorySystemDirectory()
    overrides = Overrides(directory=directory, catalog=InMemoryBackupCatalog(directory.tables))
    with caplog.at_level("WARNING"), TestClient(app_for(build(settings, overrides))):
        pass
    lines = [r.getMessage() for r in caplog.records if "BACKUP_STALE_AFTER" in r.getMessage()]
    assert lines == [
        "BACKUP_STALE_AFTER is deprecated (used as BACKUP_EXPECT_EVERY with BACKUP_GRACE 0); "
        "set BACKUP_EXPECT_EVERY and BACKUP_GRACE instead"
    ]
