"""The admin API through real HTTP: the bearer guard, and every route's success and error paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.objectstore.obstore_adapter import ObstoreObjectStore
from adapters.objectstore.urls import store_from_url
from app.composition import Overrides
from app.settings import Settings
from domain.errors import StoreUnavailable
from tests.integration.live import live_server, object_files, org_used_bytes, rows_by_state, settings_for
from tests.unit.fakes import pgp

TOKEN = "s3cret-admin-token-0123456789abcdef0123"
ADMIN = "/api/admin"
UPLOAD = "/api/systems/backups"
MISSING_ID = "01900000-0000-7000-8000-000000000000.tar.gz"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, admin_token=TOKEN, rate_limit_per_minute="0", rate_limit_per_hour="0")


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    with live_server(settings) as url:
        yield url


@pytest.fixture
def admin(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server + ADMIN, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as http:
        yield http


def data(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["code"] == status
    return body["data"]


def error(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert body["code"] == status
    assert set(body) == {"code", "message", "data"}
    return body


def make_org(admin: httpx.Client, name: str = "Acme", **fields: Any) -> str:
    org_id: str = data(admin.post("/orgs", json={"name": name, **fields}), 201)["id"]
    return org_id


def make_system(admin: httpx.Client, org_id: str, key: str) -> tuple[str, str]:
    created = data(admin.post(f"/orgs/{org_id}/systems", json={"system_key": key}), 201)
    return key, created["system_secret"]


def upload(server: str, auth: tuple[str, str], size: int = 1000) -> httpx.Response:
    return httpx.post(server + UPLOAD, content=pgp(size), auth=auth, headers={"X-Filename": "cfg.tar.gz.gpg"})


def test_the_admin_api_is_404_for_everything_while_no_token_is_set(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with live_server(settings) as server:
        for method, path in (("GET", "/orgs"), ("POST", "/orgs"), ("GET", "/stale?older_than=1h")):
            answer = httpx.request(method, server + ADMIN + path, headers={"Authorization": "Bearer anything"})
            error(answer, 404)
        assert httpx.get(server + "/api/health").status_code == 200


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"])
def test_a_missing_or_wrong_token_is_401(server: str, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = httpx.get(server + ADMIN + "/orgs", headers=headers)
    error(answer, 401)
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_admin_routes_are_in_the_openapi_schema(server: str) -> None:
    paths = httpx.get(server + "/api/schema/openapi.json").json()["paths"]
    for path in (
        "/api/admin/orgs",
        "/api/admin/orgs/{org_id}",
        "/api/admin/orgs/{org_id}/systems",
        "/api/admin/systems",
        "/api/admin/systems/{system_key}",
        "/api/admin/systems/{system_key}/rotate-secret",
        "/api/admin/systems/{system_key}/suspend",
        "/api/admin/systems/{system_key}/resume",
        "/api/admin/systems/{system_key}/backups",
        "/api/admin/systems/{system_key}/backups/{backup_id}",
        "/api/admin/stale",
        "/api/systems/backups/{backup_id}",
    ):
        assert path in paths, path
    assert set(paths["/api/admin/systems/{system_key}"]) == {"get", "delete", "patch"}


def test_orgs_are_created_listed_shown_and_given_quotas(admin: httpx.Client, settings: Settings) -> None:
    created = data(admin.post("/orgs", json={"name": "Acme"}), 201)
    assert set(created) == {"id", "name", "quota_bytes"}
    assert (created["name"], created["quota_bytes"]) == ("Acme", None)
    other = make_org(admin, "Beta", quota_bytes=0)

    listed = data(admin.get("/orgs"))
    assert [o["id"] for o in listed] == [created["id"], other]
    assert listed[0] == {"id": created["id"], "name": "Acme", "quota_bytes": None, "used_bytes": 0, "systems": 0}

    shown = data(admin.get(f"/orgs/{created['id']}"))
    assert shown == {
        "id": created["id"],
        "name": "Acme",
        "quota_bytes": None,
        "effective_quota_bytes": settings.max_size_per_org,
        "used_bytes": 0,
        "systems": 0,
        "retention": {"keep_last": 10, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0},
        "retention_override": None,
    }
    assert data(admin.get(f"/orgs/{other}"))["effective_quota_bytes"] == 0
    assert data(admin.patch(f"/orgs/{created['id']}", json={"quota_bytes": 5000}))["effective_quota_bytes"] == 5000
    assert data(admin.patch(f"/orgs/{created['id']}", json={"quota_bytes": 0}))["effective_quota_bytes"] == 0
    reset = data(admin.patch(f"/orgs/{created['id']}", json={"quota_bytes": None}))
    assert (reset["quota_bytes"], reset["effective_quota_bytes"]) == (None, settings.max_size_per_org)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "  "},
        {"name": "A", "quota_bytes": -1},
        {},
        {"name": 5},
        {"name": "A", "quota_bytes": "1GiB"},
        {"name": "A", "quota_bytes": 2**70},
    ],
)
def test_bad_org_input_is_a_400_validation_error(admin: httpx.Client, body: dict[str, Any]) -> None:
    refused = error(admin.post("/orgs", json=body), 400)
    assert refused["data"]["type"] == "validation_error"
    assert {"key", "message", "value"} <= set(refused["data"]["errors"][0])


def test_org_errors(admin: httpx.Client) -> None:
    org_id = make_org(admin)
    error(admin.get(f"/orgs/{MISSING_ID}"), 404)
    error(admin.patch(f"/orgs/{MISSING_ID}", json={"quota_bytes": 1}), 404)
    error(admin.patch(f"/orgs/{org_id}", json={"quota_bytes": -5}), 400)
    error(admin.patch(f"/orgs/{org_id}", json={"quota_bytes": 2**64}), 400)
    error(admin.get("/stale", params={"older_than": "99999999999999w"}), 400)
    error(admin.patch(f"/orgs/{org_id}", json={}), 400)
    error(admin.post("/orgs", content=b"{not json", headers={"Content-Type": "application/json"}), 400)


def test_systems_are_created_listed_and_shown(admin: httpx.Client, server: str) -> None:
    org_id = make_org(admin)
    other_org = make_org(admin, "Beta")
    created = data(admin.post(f"/orgs/{org_id}/systems", json={"system_key": "fw-1"}), 201)
    assert set(created) == {"system_key", "system_secret", "org_id"}
    assert (created["system_key"], created["org_id"]) == ("fw-1", org_id)
    generated = data(admin.post(f"/orgs/{org_id}/systems"), 201)
    assert generated["system_key"] != "fw-1"
    data(admin.post(f"/orgs/{other_org}/systems", json={}), 201)

    assert upload(server, ("fw-1", created["system_secret"])).status_code == 201
    listed = data(admin.get("/systems", params={"org": org_id}))
    assert [s["system_key"] for s in listed] == sorted(["fw-1", generated["system_key"]])
    fw1 = next(s for s in listed if s["system_key"] == "fw-1")
    assert set(fw1) == {
        *("system_key", "org_id", "suspended", "backups", "total_size", "last_backup_at"),
        *("state", "expected_every", "grace", "last_attempt_at", "last_error"),
    }
    assert (fw1["state"], fw1["expected_every"], fw1["grace"], fw1["last_error"]) == ("up", 86400, 43200, None)
    assert fw1["last_attempt_at"] == fw1["last_backup_at"]
    assert (fw1["org_id"], fw1["suspended"], fw1["backups"], fw1["total_size"]) == (org_id, False, 1, 1000)
    assert fw1["last_backup_at"].endswith("Z")
    assert len(data(admin.get("/systems"))) == 3
    assert len(data(admin.get("/systems", params={"org": ""}))) == 3

    shown = data(admin.get("/systems/fw-1"))
    assert shown == {**fw1, "max_count": 10, "max_total_size": 500 * 1024 * 1024}
    assert data(admin.get(f"/orgs/{org_id}"))["systems"] == 2


def test_system_errors(admin: httpx.Client) -> None:
    org_id = make_org(admin)
    make_system(admin, org_id, "fw-1")
    error(admin.post(f"/orgs/{org_id}/systems", json={"system_key": "fw-1"}), 409)
    error(admin.post(f"/orgs/{MISSING_ID}/systems", json={}), 404)
    error(admin.post(f"/orgs/{org_id}/systems", json={"system_key": "a/b"}), 400)
    error(admin.post(f"/orgs/{org_id}/systems", content=b"{bad"), 400)
    error(admin.post(f"/orgs/{org_id}/systems", json={"system_key": 7}), 400)
    error(admin.get("/systems", params={"org": MISSING_ID}), 404)
    for method, path in (
        ("GET", "/systems/nope"),
        ("POST", "/systems/nope/rotate-secret"),
        ("POST", "/systems/nope/suspend"),
        ("POST", "/systems/nope/resume"),
        ("DELETE", "/systems/nope"),
        ("GET", "/systems/nope/backups"),
        ("GET", f"/systems/nope/backups/{MISSING_ID}"),
        ("DELETE", f"/systems/nope/backups/{MISSING_ID}"),
    ):
        error(admin.request(method, path), 404)


def test_rotate_suspend_and_resume_change_what_the_appliance_may_do(admin: httpx.Client, server: str) -> None:
    key, secret = make_system(admin, make_org(admin), "fw-1")
    rotated = data(admin.post(f"/systems/{key}/rotate-secret"))
    assert set(rotated) == {"system_key", "system_secret"}
    assert rotated["system_key"] == key
    assert upload(server, (key, secret)).status_code == 401
    assert upload(server, (key, rotated["system_secret"])).status_code == 201

    assert data(admin.post(f"/systems/{key}/suspend")) == {"system_key": key, "suspended": True}
    assert upload(server, (key, rotated["system_secret"])).status_code == 401
    assert data(admin.get(f"/systems/{key}"))["suspended"] is True
    assert data(admin.post(f"/systems/{key}/resume")) == {"system_key": key, "suspended": False}
    assert upload(server, (key, rotated["system_secret"])).status_code == 201


def test_an_operator_lists_downloads_and_deletes_a_systems_backups(tmp_path: Path) -> None:
    # Append-only binds appliances, not the operator.
    settings = settings_for(tmp_path, admin_token=TOKEN, append_only="true", rate_limit_per_minute="0")
    with (
        live_server(settings) as server,
        httpx.Client(base_url=server + ADMIN, headers={"Authorization": f"Bearer {TOKEN}"}) as admin,
    ):
        org_id = make_org(admin)
        key, secret = make_system(admin, org_id, "fw-1")
        other, other_secret = make_system(admin, org_id, "fw-2")
        body = pgp(5000)
        answer = httpx.post(server + UPLOAD, content=body, auth=(key, secret), headers={"X-Filename": "c.json.asc"})
        backup_id = answer.json()["data"]["id"]
        theirs = upload(server, (other, other_secret)).json()["data"]["id"]

        listed = data(admin.get(f"/systems/{key}/backups"))
        assert [b["id"] for b in listed] == [backup_id]
        operator = {"uploader_ip", "protected", "protected_note"}
        assert set(listed[0]) == {"id", "filename", "size", "sha256", "mimetype", "uploaded_at", *operator}
        assert listed[0]["uploader_ip"] == "127.0.0.1"

        whole = admin.get(f"/systems/{key}/backups/{backup_id}")
        assert whole.status_code == 200
        assert whole.content == body
        assert whole.headers["Content-Disposition"] == 'attachment; filename="c.json.asc"'
        part = admin.get(f"/systems/{key}/backups/{backup_id}", headers={"Range": "bytes=-10"})
        assert (part.status_code, part.content, part.headers["Content-Range"]) == (
            206,
            body[-10:],
            "bytes 4990-4999/5000",
        )
        error(admin.get(f"/systems/{key}/backups/{backup_id}", headers={"Range": "bytes=6000-"}), 416)

        error(admin.get(f"/systems/{key}/backups/{theirs}"), 404)
        error(admin.delete(f"/systems/{key}/backups/{theirs}"), 404)
        error(admin.get(f"/systems/{key}/backups/not-an-id"), 400)
        error(admin.delete(f"/systems/{key}/backups/not-an-id"), 400)
        assert httpx.delete(f"{server}{UPLOAD}/{backup_id}", auth=(key, secret)).status_code == 403

        assert data(admin.delete(f"/systems/{key}/backups/{backup_id}")) == {"id": backup_id}
        error(admin.delete(f"/systems/{key}/backups/{backup_id}"), 404)
        assert data(admin.get(f"/orgs/{org_id}"))["used_bytes"] == 1000
    assert org_used_bytes(settings, org_id) == 1000


class FailingDeletes(ObstoreObjectStore):
    """The configured store, except that every delete fails."""

    async def delete(self, _key: str) -> None:
        raise StoreUnavailable("injected")


def test_destroy_erases_objects_then_rows_and_a_failed_one_completes_on_retry(
    settings: Settings, server: str, admin: httpx.Client
) -> None:
    org_id = make_org(admin)
    key, secret = make_system(admin, org_id, "fw-1")
    neighbour, neighbour_secret = make_system(admin, org_id, "fw-2")
    for _ in range(3):
        assert upload(server, (key, secret)).status_code == 201
    assert upload(server, (neighbour, neighbour_secret)).status_code == 201

    broken = Overrides(objects=FailingDeletes(store_from_url(settings.storage_url)))
    with live_server(settings, broken) as failing_server:
        answer = httpx.delete(f"{failing_server}{ADMIN}/systems/{key}", headers={"Authorization": f"Bearer {TOKEN}"})
        error(answer, 503)
    assert len(object_files(settings)) == 4
    assert rows_by_state(settings) == {"deleting": 3, "stored": 1}
    assert data(admin.get(f"/systems/{key}"))["suspended"] is True

    assert data(admin.delete(f"/systems/{key}")) == {"system_key": key, "deleted_objects": 3}
    error(admin.get(f"/systems/{key}"), 404)
    error(admin.delete(f"/systems/{key}"), 404)
    assert rows_by_state(settings) == {"stored": 1}
    assert len(object_files(settings)) == 1
    assert data(admin.get(f"/orgs/{org_id}"))["used_bytes"] == 1000
    assert upload(server, (key, secret)).status_code == 401


def test_stale_lists_systems_that_went_quiet_or_never_uploaded(admin: httpx.Client, server: str) -> None:
    org_id = make_org(admin)
    key, secret = make_system(admin, org_id, "fw-1")
    make_system(admin, org_id, "fw-idle")
    assert upload(server, (key, secret)).status_code == 201
    assert data(admin.get("/stale", params={"older_than": "36h"})) == [
        {"system_key": "fw-idle", "org_id": org_id, "last_backup_at": None}
    ]
    quiet = data(admin.get("/stale", params={"older_than": "0s"}))
    assert [s["system_key"] for s in quiet] == ["fw-idle", "fw-1"]
    assert data(admin.get("/stale")) == []  # without older_than: the `down` ones (fw-idle is `new`)
    bad = error(admin.get("/stale", params={"older_than": "3 days"}), 400)
    assert bad["data"]["errors"][0]["key"] == "older_than"
