"""The operator console through HTTP (Litestar's test client on a `World`, in process): sessions,
CSRF, and each page and action running the use case the admin API runs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from adapters.memory.clock import FrozenClock
from app.settings import Settings
from tests.unit.fakes import World, pgp

TOKEN = "console-test-token-5f1c-0123456789abcdef"
START = datetime(2026, 4, 12, 9, 0, tzinfo=UTC)
Client = TestClient[Litestar]


def make_client(clock: FrozenClock, base_url: str = "http://testserver.local", **env: str) -> Client:
    """The app on a `World` with the service's default caps, no rate limit, and `env` (BACKUP_* names)."""
    world = World(limits=Settings.from_env({}).limits, windows={}, clock=clock, env=env)
    return world.client(base_url)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def http(clock: FrozenClock) -> Iterator[Client]:
    with make_client(clock, BACKUP_ADMIN_TOKEN=TOKEN) as client:
        yield client


def admin(http: Client, method: str, path: str, json: object = None) -> Any:
    answer = http.request(method, "/api/admin" + path, headers={"Authorization": f"Bearer {TOKEN}"}, json=json)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()["data"]


def fleet(http: Client, clock: FrozenClock) -> dict[str, str]:
    """Org `acme` with `fresh` (backups 1 h and 48 h old), `quiet` (49 h old) and `never`; returns secrets."""
    org = admin(http, "POST", "/orgs", json={"name": "acme"})
    secrets = {}
    for key in ("fresh", "quiet", "never"):
        created = admin(http, "POST", f"/orgs/{org['id']}/systems", json={"system_key": key})
        secrets[key] = created["system_secret"]
    for key, hours_later in (("quiet", 1), ("fresh", 1), ("fresh", 47)):
        clock.advance(3600 * hours_later)
        answer = upload(http, key, secrets[key], pgp(2000 + hours_later))
        assert answer.status_code == 201, answer.text
    clock.advance(3600)
    return {"org_id": org["id"], **secrets}


def upload(http: Client, key: str, secret: str, body: bytes) -> httpx.Response:
    return http.post("/api/systems/backups", content=body, auth=(key, secret), headers={"X-Filename": "cfg.tar.gz.gpg"})


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_in(http: Client, token: str = TOKEN) -> httpx.Response:
    form = http.get("/console/sign-in")
    return http.post("/console/sign-in", data={"token": token, "csrf": csrf_of(form)}, follow_redirects=False)


def set_cookie_header(answer: httpx.Response, name: str) -> str:
    (header,) = [h for h in answer.headers.get_list("set-cookie") if h.startswith(name + "=")]
    return header


def test_the_console_is_404_while_no_admin_token_is_set(clock: FrozenClock) -> None:
    with make_client(clock) as http:
        assert http.get("/console").status_code == 404
        assert http.get("/console/sign-in").status_code == 404
        assert http.post("/console/sign-in", data={"token": ""}).status_code == 404


def test_pages_send_an_anonymous_visitor_to_sign_in(http: Client) -> None:
    answer = http.get("/console/systems/anything", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/sign-in?next_path=/console/systems/anything"


def test_signing_in_sets_an_httponly_strict_expiring_session_cookie(http: Client) -> None:
    answer = sign_in(http)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console"
    cookie = set_cookie_header(answer, "backup_console").lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "max-age=1800" in cookie
    assert "path=/console" in cookie
    assert "secure" not in cookie
    assert http.get("/console").status_code == 200


def test_the_session_cookie_is_secure_under_tls(clock: FrozenClock) -> None:
    with make_client(clock, base_url="https://testserver.local", BACKUP_ADMIN_TOKEN=TOKEN) as http:
        cookie = set_cookie_header(sign_in(http), "backup_console").lower()
        assert "secure" in cookie.split("; ")


def test_a_wrong_token_is_refused_and_starts_no_session(http: Client) -> None:
    answer = sign_in(http, "wrong-token")
    assert answer.status_code == 401
    assert "wrong admin token" in answer.text
    assert not [h for h in answer.headers.get_list("set-cookie") if h.startswith("backup_console=")]
    assert http.get("/console", follow_redirects=False).status_code == 303


def test_sign_in_without_its_csrf_token_is_refused(http: Client) -> None:
    http.get("/console/sign-in")
    answer = http.post("/console/sign-in", data={"token": TOKEN}, follow_redirects=False)
    assert answer.status_code == 403
    assert http.get("/console", follow_redirects=False).status_code == 303


def test_an_action_without_the_csrf_token_is_refused_and_does_nothing(http: Client, clock: FrozenClock) -> None:
    secrets = fleet(http, clock)
    sign_in(http)
    for data in ({}, {"csrf": "forged"}):
        answer = http.post("/console/systems/fresh/suspend", data=data)
        assert answer.status_code == 403
        assert "refused" in answer.text
    assert upload(http, "fresh", secrets["fresh"], pgp(100)).status_code == 201


def test_a_csrf_token_of_another_session_is_refused(http: Client, clock: FrozenClock) -> None:
    fleet(http, clock)
    sign_in(http)
    old_token = csrf_of(http.get("/console"))
    http.cookies.clear()
    sign_in(http)
    assert http.post("/console/systems/fresh/suspend", data={"csrf": old_token}).status_code == 403


def test_down_systems_come_first_and_marked(http: Client, clock: FrozenClock) -> None:
    secrets = fleet(http, clock)
    sign_in(http)
    page = http.get(f"/console/orgs/{secrets['org_id']}")
    assert page.status_code == 200
    rows = re.findall(r'<tr class="([^"]*)" data-system="([^"]+)"', page.text)
    assert rows == [("is-stale", "never"), ("is-stale", "quiet"), ("", "fresh")]
    assert re.findall(
        r'data-system="[^"]+">\s*<td><a [^>]+>[^<]+</a></td>\s*<td>\s*<span class="badge [a-z]+">([a-z]+)<', page.text
    ) == ["down", "down", "up"]
    system = http.get("/console/systems/quiet").text
    assert "expected every 24 h, grace 12 h" in system
    orgs = http.get("/console")
    assert re.search(r'badge stale">2</span>', orgs.text)


def test_the_deprecated_stale_after_is_the_expected_interval_with_no_grace(clock: FrozenClock) -> None:
    with make_client(clock, BACKUP_ADMIN_TOKEN=TOKEN, BACKUP_STALE_AFTER="3d") as http:
        secrets = fleet(http, clock)
        sign_in(http)
        page = http.get(f"/console/orgs/{secrets['org_id']}")
        rows = re.findall(r'<tr class="([^"]*)" data-system="([^"]+)"', page.text)
        # `never` was created 50 h ago: still `new` within 3 d; the others stored one within 3 d.
        assert rows == [("", "never"), ("", "quiet"), ("", "fresh")]
        assert "expected every 3 d, grace 0 s" in http.get("/console/systems/quiet").text


def test_suspend_and_resume_run_the_admin_use_case(http: Client, clock: FrozenClock) -> None:
    secrets = fleet(http, clock)
    sign_in(http)
    token = csrf_of(http.get("/console/systems/fresh"))
    answer = http.post("/console/systems/fresh/suspend", data={"csrf": token}, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/systems/fresh")
    assert upload(http, "fresh", secrets["fresh"], pgp(100)).status_code == 401
    assert 'badge suspended">paused' in http.get("/console/systems/fresh").text
    http.post("/console/systems/fresh/resume", data={"csrf": token})
    assert upload(http, "fresh", secrets["fresh"], pgp(100)).status_code == 201


def test_rotating_the_secret_shows_the_new_one_once(http: Client, clock: FrozenClock) -> None:
    secrets = fleet(http, clock)
    sign_in(http)
    token = csrf_of(http.get("/console/systems/fresh"))
    answer = http.post("/console/systems/fresh/rotate-secret", data={"csrf": token})
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    new_secret = re.search(r'id="new-secret">([^<]+)<', answer.text)
    assert new_secret
    assert upload(http, "fresh", secrets["fresh"], pgp(100)).status_code == 401
    assert upload(http, "fresh", new_secret.group(1), pgp(100)).status_code == 201
    assert new_secret.group(1) not in http.get("/console/systems/fresh").text


def test_delete_asks_first_then_deletes_with_the_form(http: Client, clock: FrozenClock) -> None:
    fleet(http, clock)
    sign_in(http)
    backups = admin(http, "GET", "/systems/fresh/backups")
    newest = backups[0]["id"]
    question = http.get(f"/console/systems/fresh/backups/{newest}/delete")
    assert question.status_code == 200
    assert "Delete this backup?" in question.text
    assert len(admin(http, "GET", "/systems/fresh/backups")) == 2
    answer = http.post(
        f"/console/systems/fresh/backups/{newest}/delete", data={"csrf": csrf_of(question)}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/systems/fresh?deleted={newest}"
    remaining = admin(http, "GET", "/systems/fresh/backups")
    assert [b["id"] for b in remaining] == [backups[1]["id"]]
    assert http.get(f"/console/systems/fresh/backups/{newest}").status_code == 404


def test_download_serves_the_stored_bytes(http: Client, clock: FrozenClock) -> None:
    secrets = fleet(http, clock)
    body = pgp(5000)
    stored = upload(http, "quiet", secrets["quiet"], body).json()["data"]
    sign_in(http)
    answer = http.get(f"/console/systems/quiet/backups/{stored['id']}")
    assert answer.status_code == 200
    assert answer.content == body
    assert answer.headers["content-disposition"] == 'attachment; filename="cfg.tar.gz.gpg"'


def test_the_system_page_lists_backups_newest_first_with_their_sha256(http: Client, clock: FrozenClock) -> None:
    fleet(http, clock)
    sign_in(http)
    backups = admin(http, "GET", "/systems/fresh/backups")
    page = http.get("/console/systems/fresh")
    assert re.findall(r'data-backup="([^"]+)"', page.text) == [b["id"] for b in backups]
    for backup in backups:
        assert backup["sha256"] in page.text
    assert re.findall(r'<td class="uploader">([^<]+)</td>', page.text) == [b["uploader_ip"] or "—" for b in backups]
    assert page.text.count("<circle") == 2


def test_an_unknown_system_is_a_404_page(http: Client) -> None:
    sign_in(http)
    answer = http.get("/console/systems/nobody")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "system nobody not found" in answer.text


def test_the_session_ends_after_30_idle_minutes(http: Client, clock: FrozenClock) -> None:
    sign_in(http)
    clock.advance(29 * 60)
    assert http.get("/console", follow_redirects=False).status_code == 200
    clock.advance(29 * 60)
    assert http.get("/console", follow_redirects=False).status_code == 200
    clock.advance(30 * 60)
    assert http.get("/console", follow_redirects=False).headers["location"] == "/console/sign-in"


def test_the_session_ends_8_hours_after_sign_in_however_busy(http: Client, clock: FrozenClock) -> None:
    sign_in(http)
    for _ in range(int(timedelta(hours=8) / timedelta(minutes=20)) - 1):
        clock.advance(20 * 60)
        assert http.get("/console", follow_redirects=False).status_code == 200
    clock.advance(20 * 60)
    assert http.get("/console", follow_redirects=False).status_code == 303


def test_a_forged_session_cookie_is_no_session(http: Client) -> None:
    sign_in(http)
    cookie = http.cookies["backup_console"]
    version, started, _expires, sid, signature = cookie.split(".")
    http.cookies.clear()
    http.cookies.set("backup_console", f"{version}.{started}.9999999999.{sid}.{signature}", path="/console")
    assert http.get("/console", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session_in_this_browser(http: Client) -> None:
    sign_in(http)
    token = csrf_of(http.get("/console"))
    answer = http.post("/console/sign-out", data={"csrf": token}, follow_redirects=False)
    assert answer.status_code == 303
    assert "max-age=0" in set_cookie_header(answer, "backup_console").lower()
    assert http.get("/console", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/api/admin/orgs", "/console/../api"])
def test_sign_in_sends_the_operator_on_only_to_console_pages(http: Client, target: str) -> None:
    form = http.get("/console/sign-in", params={"next_path": target})
    answer = http.post(
        "/console/sign-in",
        data={"token": TOKEN, "csrf": csrf_of(form), "next_path": target},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/console"


def test_pages_load_nothing_from_elsewhere(http: Client, clock: FrozenClock) -> None:
    fleet(http, clock)
    sign_in(http)
    for path in ("/console", "/console/systems/fresh", "/console/sign-in"):
        page = http.get(path)
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert not re.search(r'(src|href)="(https?:)?//', page.text)
    css = http.get("/console/static/console.css")
    assert css.headers["content-type"].startswith("text/css")
    assert "url(" not in css.text


def test_in_append_only_mode_the_console_still_deletes_as_the_operator(clock: FrozenClock) -> None:
    with make_client(clock, BACKUP_ADMIN_TOKEN=TOKEN, BACKUP_APPEND_ONLY="true") as http:
        fleet(http, clock)
        sign_in(http)
        newest = admin(http, "GET", "/systems/fresh/backups")[0]["id"]
        question = http.get(f"/console/systems/fresh/backups/{newest}/delete")
        answer = http.post(f"/console/systems/fresh/backups/{newest}/delete", data={"csrf": csrf_of(question)})
        assert answer.status_code == 200
        remaining = [b["id"] for b in admin(http, "GET", "/systems/fresh/backups")]
        assert len(remaining) == 1
        assert newest not in remaining
