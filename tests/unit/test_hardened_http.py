"""Operator surfaces, hardened (SPEC), through HTTP in process: undecodable bodies are 400 on every route,
every console answer carries the security headers, `OPTIONS` tells every method, and transfer codings
other than chunked are 501."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.memory.clock import FrozenClock
from tests.unit.fakes import pgp
from tests.unit.test_console_http import START, TOKEN, Client, csrf_of, make_client, sign_in

BEARER = {"Authorization": f"Bearer {TOKEN}"}
CONSOLE_HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy")


@pytest.fixture
def http() -> Iterator[Client]:
    with make_client(FrozenClock(START), BACKUP_ADMIN_TOKEN=TOKEN) as client:
        yield client


def multipart(*parts: tuple[str, bytes, str]) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body of (name, value, part Content-Type) parts, written by hand."""
    body = b""
    for name, value, content_type in parts:
        body += f'--b0undary\r\nContent-Disposition: form-data; name="{name}"\r\n'.encode()
        body += f"Content-Type: {content_type}\r\n\r\n".encode() + value + b"\r\n"
    return body + b"--b0undary--\r\n", {"Content-Type": "multipart/form-data; boundary=b0undary"}


def assert_console_headers(answer: object) -> None:
    headers = answer.headers  # type: ignore[attr-defined]
    for name in CONSOLE_HEADERS:
        assert name in headers, name
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


@pytest.mark.parametrize(
    ("value", "content_type"),
    [
        (b"\xff", "text/plain"),
        (b"\xc3\x28", "text/plain; charset=utf-8"),
        (b"abc", "text/plain; charset=bogus"),
        (b"abc", "text/plain; charset=rot13"),
    ],
)
def test_an_undecodable_sign_in_form_is_400_and_signs_no_one_in(http: Client, value: bytes, content_type: str) -> None:
    csrf = csrf_of(http.get("/console/sign-in"))
    body, headers = multipart(("token", value, content_type), ("csrf", csrf.encode(), "text/plain"))
    answer = http.post("/console/sign-in", content=body, headers=headers, follow_redirects=False)
    assert answer.status_code == 400
    assert_console_headers(answer)
    assert http.get("/console", follow_redirects=False).status_code == 303


def test_an_undecodable_action_form_is_400(http: Client) -> None:
    sign_in(http)
    csrf = csrf_of(http.get("/console"))
    body, headers = multipart(("csrf", csrf.encode(), "text/plain; charset=x-unknown"))
    answer = http.post("/console/sign-out", content=body, headers=headers, follow_redirects=False)
    assert answer.status_code == 400
    assert http.get("/console", follow_redirects=False).status_code == 200


@pytest.mark.parametrize("body", [b'{"name": "\xff"}', b'{"name": "a\xed\xa0\x80"}', b'\xfe\xff{"name": "a"}'])
def test_json_that_is_not_utf8_is_400_on_the_admin_api(http: Client, body: bytes) -> None:
    answer = http.post("/api/admin/orgs", content=body, headers={**BEARER, "Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["data"]["errors"][0]["key"] in {"body", "request"}
    assert http.get("/api/admin/orgs", headers=BEARER).json()["data"] == []


def test_console_error_pages_carry_the_security_headers(http: Client) -> None:
    http.get("/console/sign-in")
    refused = http.post("/console/sign-in", data={"token": TOKEN, "csrf": "forged"})
    assert refused.status_code == 403
    unknown_route = http.get("/console/no/such/page")
    assert unknown_route.status_code == 404
    sign_in(http)
    unknown_system = http.get("/console/systems/nobody")
    assert unknown_system.status_code == 404
    bad_multipart = http.post("/console/sign-out", content=b"junk", headers={"Content-Type": "multipart/form-data"})
    assert bad_multipart.status_code == 400
    redirect = http.get("/console/sign-in?next_path=/console", follow_redirects=False)
    for answer in (refused, unknown_route, unknown_system, bad_multipart, redirect, http.get("/console")):
        assert_console_headers(answer)


def test_the_api_answers_do_not_carry_the_console_headers(http: Client) -> None:
    assert "content-security-policy" not in http.get("/api/health").headers


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/systems/backups", "GET, OPTIONS, POST"),
        ("/api/systems/backups/0190a0a0-0000-7000-8000-000000000000.bin", "DELETE, GET, HEAD, OPTIONS"),
        ("/console/systems/k/backups/0190a0a0-0000-7000-8000-000000000000.bin/delete", "GET, OPTIONS, POST"),
    ],
)
def test_options_lists_every_method_the_path_serves(http: Client, path: str, allow: str) -> None:
    answer = http.options(path)
    assert answer.status_code == 204
    assert answer.headers["allow"] == allow


@pytest.mark.parametrize("coding", ["gzip, chunked", "identity", "chunked, chunked", "deflate"])
def test_a_transfer_coding_other_than_chunked_is_501_and_stores_nothing(http: Client, coding: str) -> None:
    org = http.post("/api/admin/orgs", json={"name": "acme"}, headers=BEARER).json()["data"]
    system = http.post(f"/api/admin/orgs/{org['id']}/systems", json={}, headers=BEARER).json()["data"]
    auth = (system["system_key"], system["system_secret"])
    answer = http.post("/api/systems/backups", content=pgp(100), auth=auth, headers={"Transfer-Encoding": coding})
    assert answer.status_code == 501
    assert answer.json()["code"] == 501
    assert http.get("/api/systems/backups", auth=auth).json()["data"]["backups"] == []


def test_sign_out_revokes_the_session_on_the_server(http: Client) -> None:
    org = http.post("/api/admin/orgs", json={"name": "acme"}, headers=BEARER).json()["data"]
    http.post(f"/api/admin/orgs/{org['id']}/systems", json={"system_key": "fw"}, headers=BEARER)
    sign_in(http)
    copied = http.cookies["backup_console"]
    csrf = csrf_of(http.get("/console"))
    assert http.post("/console/sign-out", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    http.cookies.set("backup_console", copied, path="/console")
    assert http.get("/console", follow_redirects=False).status_code == 303
    suspend = http.post("/console/systems/fw/suspend", data={"csrf": csrf}, follow_redirects=False)
    assert suspend.status_code == 303
    assert suspend.headers["location"].startswith("/console/sign-in")
    assert http.get("/api/admin/systems/fw", headers=BEARER).json()["data"]["suspended"] is False


def test_a_new_admin_token_ends_every_session() -> None:
    clock = FrozenClock(START)
    with make_client(clock, BACKUP_ADMIN_TOKEN=TOKEN) as before:
        sign_in(before)
        cookie = before.cookies["backup_console"]
        assert before.get("/console").status_code == 200
    with make_client(clock, BACKUP_ADMIN_TOKEN="another-admin-token-" + "9" * 20) as after:
        after.cookies.set("backup_console", cookie, path="/console")
        assert after.get("/console", follow_redirects=False).status_code == 303


def test_the_eleventh_wrong_sign_in_in_a_minute_is_429_even_with_the_right_token() -> None:
    clock = FrozenClock(START)
    with make_client(clock, BACKUP_ADMIN_TOKEN=TOKEN) as http:
        for attempt in range(10):
            assert sign_in(http, f"wrong-{attempt}").status_code == 401
        refused = sign_in(http, "wrong-10")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert_console_headers(refused)
        assert sign_in(http, TOKEN).status_code == 429
        clock.advance(61)
        assert sign_in(http, TOKEN).status_code == 303


def test_the_eleventh_wrong_admin_bearer_token_in_a_minute_is_429_even_for_the_right_one() -> None:
    clock = FrozenClock(START)
    with make_client(clock, BACKUP_ADMIN_TOKEN=TOKEN) as http:
        for attempt in range(10):
            wrong = {"Authorization": f"Bearer wrong-{attempt}"}
            assert http.get("/api/admin/orgs", headers=wrong).status_code == 401
        refused = http.get("/api/admin/orgs", headers={"Authorization": "Bearer wrong"})
        assert refused.status_code == 429
        assert refused.json()["data"]["retry_after_seconds"] == int(refused.headers["retry-after"])
        assert http.get("/api/admin/orgs", headers=BEARER).status_code == 429
        clock.advance(61)
        assert http.get("/api/admin/orgs", headers=BEARER).status_code == 200


def test_the_right_admin_token_is_never_counted() -> None:
    with make_client(FrozenClock(START), BACKUP_ADMIN_TOKEN=TOKEN) as http:
        for _ in range(30):
            assert http.get("/api/admin/orgs", headers=BEARER).status_code == 200


def test_an_upload_refused_for_its_transfer_coding_counts_as_invalid_not_unavailable(http: Client) -> None:
    http.post("/api/systems/backups", content=b"x", headers={"Transfer-Encoding": "gzip, chunked"})
    scraped = http.get("/metrics").text
    assert 'backup_collect_uploads_total{outcome="invalid"} 1.0' in scraped
    assert 'backup_collect_uploads_total{outcome="unavailable"} 0.0' in scraped
