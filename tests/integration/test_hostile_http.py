"""Malformed input from a stranger, through real sockets: always a 4xx in the envelope, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.integration.live import Tenant, live_server, provision, raw_request, settings_for
from tests.unit.fakes import pgp

TOKEN = "hostile-admin-token-0123456789abcdef0123"
URL = "/api/systems/backups"


@dataclass
class Site:
    url: str
    settings: Settings
    tenant: Tenant
    backup_id: str
    size: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = settings_for(
        tmp_path_factory.mktemp("hostile"), admin_token=TOKEN, rate_limit_per_minute="0", rate_limit_per_hour="0"
    )
    tenant = provision(settings)[0]
    with live_server(settings) as url:
        stored = httpx.post(url + URL, content=pgp(1000), auth=tenant.auth, timeout=30)
        assert stored.status_code == 201, stored.text
        yield Site(url, settings, tenant, stored.json()["data"]["id"], 1000)


def envelope(answer: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Status, headers and JSON envelope of a raw HTTP/1.1 answer."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    document: dict[str, Any] = json.loads(body) if body else {}
    return status, headers, document


def request(site: Site, method: str, path: str, authorization: bytes) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n".encode()
    return raw_request(site.url, head + b"Authorization: " + authorization + b"\r\n\r\n", read_all=True)


@pytest.mark.parametrize("authorization", [b"Basic \xc3\xa4\xc3\xb6", b"Basic \xff\xfe==", b"Basic \x80abc"])
@pytest.mark.parametrize(("method", "route"), [("POST", ""), ("GET", ""), ("GET", "/{id}"), ("DELETE", "/{id}")])
def test_non_ascii_basic_credentials_are_401_on_every_appliance_route(
    site: Site, method: str, route: str, authorization: bytes
) -> None:
    answer = request(site, method, URL + route.format(id=site.backup_id), authorization)
    status, headers, document = envelope(answer)
    assert status == 401
    assert headers["www-authenticate"].startswith("Basic ")
    assert document["code"] == 401


DIGITS = "9" * 5000


@pytest.mark.parametrize("admin", [False, True])
@pytest.mark.parametrize(
    ("range_header", "status", "content_range"),
    [
        (f"bytes={DIGITS}-", 416, "bytes */1000"),  # starts past the end, however far
        (f"bytes=0-{DIGITS}", 206, "bytes 0-999/1000"),  # a last byte past the end is clipped
        (f"bytes=-{DIGITS}", 206, "bytes 0-999/1000"),  # a suffix longer than the backup is all of it
        (f"bytes={'0' * 5000}10-19", 206, "bytes 10-19/1000"),  # leading zeros mean nothing
        (f"bytes={DIGITS}-5", 200, None),  # last before first: malformed, so the whole backup
    ],
)
def test_absurd_range_numbers_are_answered_as_they_mean(
    site: Site, admin: bool, range_header: str, status: int, content_range: str | None
) -> None:
    if admin:
        path = f"/api/admin/systems/{site.tenant.key}/backups/{site.backup_id}"
        auth: dict[str, Any] = {"headers": {"Authorization": f"Bearer {TOKEN}", "Range": range_header}}
    else:
        path = f"{URL}/{site.backup_id}"
        auth = {"headers": {"Range": range_header}, "auth": site.tenant.auth}
    answer = httpx.get(site.url + path, timeout=30, **auth)
    assert answer.status_code == status
    assert answer.headers.get("content-range") == content_range


def admin_post(site: Site, path: str, content: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    return httpx.post(site.url + "/api/admin" + path, content=content, headers=headers, timeout=30)


@pytest.mark.parametrize("path", ["/orgs", "/orgs/{org}/systems"])
def test_deeply_nested_json_on_the_admin_api_is_400(site: Site, path: str) -> None:
    answer = admin_post(site, path.format(org=site.tenant.org_id), b"[" * 10_000 + b"]" * 10_000)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == 400
    assert answer.json()["data"]["type"] == "validation_error"


def test_an_oversized_admin_body_is_refused_before_it_is_read_whole(site: Site) -> None:
    answer = admin_post(site, "/orgs", b'{"name": "' + b"x" * 1024 * 1024 + b'"}')
    assert answer.status_code == 413
    assert answer.json()["code"] == 413


@pytest.mark.parametrize("name", ["x" * 201, "x" * 60_000, "a\x00b", "tab\there", "line\nbreak", "\x1b[31mred", "   "])
def test_org_names_past_their_bounds_are_400_naming_the_field(site: Site, name: str) -> None:
    answer = admin_post(site, "/orgs", json.dumps({"name": name}).encode())
    assert answer.status_code == 400, answer.text
    document = answer.json()
    assert document["data"]["errors"][0]["key"] == "name"
    assert len(answer.content) < 2000  # what was sent is not echoed whole


def test_an_org_name_of_200_printable_characters_is_accepted(site: Site) -> None:
    name = "Ünïcödé & Co. " + "x" * 186
    answer = admin_post(site, "/orgs", json.dumps({"name": name}).encode())
    assert answer.status_code == 201, answer.text
    assert answer.json()["data"]["name"] == name


def test_an_overlong_system_key_is_400_without_echoing_it(site: Site) -> None:
    answer = admin_post(site, f"/orgs/{site.tenant.org_id}/systems", json.dumps({"system_key": "k" * 50_000}).encode())
    assert answer.status_code == 400
    assert answer.json()["data"]["errors"][0]["key"] == "system_key"
    assert len(answer.content) < 2000


@pytest.mark.parametrize("filename", [b"a\tb.tar.gz.gpg", b"\xc3\xa4\tname.gpg"])
def test_tabs_and_utf8_in_x_filename_become_underscores(site: Site, filename: bytes) -> None:
    body = pgp(100)
    auth = site.tenant.basic.encode()
    head = (
        f"POST {URL} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\nConnection: close\r\n".encode()
        + b"Authorization: "
        + auth
        + b"\r\nX-Filename: "
        + filename
        + b"\r\n\r\n"
    )
    status, _, document = envelope(raw_request(site.url, head, [body], read_all=True))
    assert status == 201
    assert "\t" not in document["data"]["filename"]
    assert "_" in document["data"]["filename"]


def test_control_characters_in_a_header_are_400_in_the_envelope(site: Site) -> None:
    auth = site.tenant.basic.encode()
    head = f"POST {URL} HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n".encode()
    answer = raw_request(site.url, head + b"Authorization: " + auth + b"\r\nX-Filename: a\x01b\r\n\r\n", read_all=True)
    status, _, document = envelope(answer)
    assert status == 400
    assert document["code"] == 400


@pytest.mark.parametrize("admin", [False, True])
@pytest.mark.parametrize("range_header", [None, "bytes=10-19", "bytes=5000-"])
def test_head_on_a_download_answers_as_get_without_the_body(site: Site, admin: bool, range_header: str | None) -> None:
    if admin:
        path = f"/api/admin/systems/{site.tenant.key}/backups/{site.backup_id}"
        options: dict[str, Any] = {"headers": {"Authorization": f"Bearer {TOKEN}"}}
    else:
        path = f"{URL}/{site.backup_id}"
        options = {"headers": {}, "auth": site.tenant.auth}
    if range_header:
        options["headers"]["Range"] = range_header
    got = httpx.get(site.url + path, timeout=30, **options)
    head = httpx.head(site.url + path, timeout=30, **options)
    assert head.status_code == got.status_code
    assert head.content == b""
    skip = {"date", "x-request-id"} | ({"content-length"} if got.status_code == 416 else set())
    assert {k: v for k, v in head.headers.items() if k not in skip} == {
        k: v for k, v in got.headers.items() if k not in skip
    }


def test_head_on_an_unknown_backup_is_404_and_without_credentials_401(site: Site) -> None:
    missing = "01900000-0000-7000-8000-000000000000.tar.gz"
    assert httpx.head(f"{site.url}{URL}/{missing}", auth=site.tenant.auth).status_code == 404
    assert httpx.head(f"{site.url}{URL}/{site.backup_id}").status_code == 401
