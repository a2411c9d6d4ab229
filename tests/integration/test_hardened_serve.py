"""Operator surfaces, hardened, on a real `serve` behind a trusted proxy: every injection the security
review tried leaves no raw control character from a request in the text or JSON logs; a bogus forwarded
address is not believed; other transfer codings are 501; failed tokens are limited per client address."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main
from tests.integration.live import Tenant, provision, raw_request, serving, settings_for
from tests.integration.test_serve_tls_and_proxies import PROXY, environment
from tests.unit.fakes import pgp

TOKEN = "hardened-serve-admin-token-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
UPLOAD = "/api/systems/backups"
FAKE_LINE = "2026-12-04T03:00:00.000Z INFO backup_collect.access: POST /api/systems/backups 201"
# What a log line may hold of a request only escaped: C0 (a line's own end aside), DEL, C1, U+2028/9.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
INJECTED_PATHS = [
    "/api/health%0A" + FAKE_LINE.replace(" ", "%20"),
    "/api/health%0D%0A" + FAKE_LINE.replace(" ", "%20"),
    "/console/%1B%5B2J%1B%5B31mred",
    "/api/%7F%C2%85%E2%80%A8%E2%80%A9%00x",
    "/api/health%09tab",
]


def via_proxy(forwarded_for: str) -> httpx.Client:
    """A client that reaches the server from the trusted proxy's address, naming `forwarded_for`."""
    transport = httpx.HTTPTransport(local_address=PROXY)
    return httpx.Client(transport=transport, headers={"X-Forwarded-For": forwarded_for}, timeout=30)


def multipart_sign_in(value: bytes, charset: str) -> tuple[bytes, dict[str, str]]:
    body = (
        b'--zz\r\nContent-Disposition: form-data; name="token"\r\n'
        + f"Content-Type: text/plain; charset={charset}\r\n\r\n".encode()
        + value
        + b"\r\n--zz--\r\n"
    )
    return body, {"Content-Type": "multipart/form-data; boundary=zz"}


def drive_every_injection(url: str, tenant: Tenant) -> dict[str, Any]:
    """Each injection of the review, through the proxy where an address matters; what came back."""
    seen: dict[str, Any] = {}
    with httpx.Client(base_url=url, timeout=30) as http:
        seen["paths"] = [raw_request(url, f"GET {p} HTTP/1.1\r\nHost: t\r\n\r\n".encode()) for p in INJECTED_PATHS]
        http.get("/console/sign-in")
        for value, charset in ((b"\xff", "utf-8"), (b"abc", "x-bogus\x1b[31m")):
            body, headers = multipart_sign_in(value, charset)
            seen.setdefault("sign_in", []).append(http.post("/console/sign-in", content=body, headers=headers))
        json_headers = {**BEARER, "Content-Type": "application/json"}
        seen["json"] = http.post("/api/admin/orgs", content=b'{"name": "\xff\x1b[31m"}', headers=json_headers)
    upload_head = f"POST {UPLOAD} HTTP/1.1\r\nHost: t\r\nAuthorization: ".encode() + tenant.basic.encode() + b"\r\n"
    chunked = b"Transfer-Encoding: gzip, chunked\r\n\r\n"
    seen["gzip_chunked"] = raw_request(url, upload_head + chunked, [b"5\r\nhello\r\n0\r\n\r\n"])
    # Bytes past ASCII (U+0085 NEL, U+2028, once read as UTF-8) in a filename and a user agent.
    header = b"X-Filename: b\xc2\x85\xe2\x80\xa8.tar.gz\r\nUser-Agent: ua\xc2\x9b31m\r\n"
    seen["filename"] = raw_request(url, upload_head + header + b"Content-Length: 2000\r\n\r\n", [pgp(2000)])
    seen["request_id"] = raw_request(url, b"GET /api/health HTTP/1.1\r\nHost: t\r\nX-Request-ID: i\xc2\x85\r\n\r\n")
    # C0 controls in a header value: the HTTP parser refuses the request before the application sees it.
    seen["c0_header"] = raw_request(url, b"GET /api/health HTTP/1.1\r\nHost: t\r\nX-Filename: a\x1b[2J\r\n\r\n")
    with via_proxy("not-an-ip") as proxied:
        seen["bogus_forwarded"] = proxied.post(
            f"{url}{UPLOAD}", content=pgp(3000), auth=tenant.auth, headers={"X-Filename": "c.tar.gz"}
        )
    with via_proxy("A" * 8000) as proxied:
        seen["long_forwarded"] = proxied.post(f"{url}{UPLOAD}", content=pgp(4000), auth=tenant.auth)
    return seen


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_raw_control_character_from_a_request_reaches_the_logs(tmp_path: Path, log_format: str) -> None:
    (tenant,) = provision(settings_for(tmp_path))
    env = environment(
        tmp_path, admin_token=TOKEN, trusted_proxies=PROXY, rate_limit_per_minute="0", log_format=log_format
    )
    log = tmp_path / "serve.log"
    with serving(env, log) as served:
        seen = drive_every_injection(served.url, tenant)
        listing = httpx.get(f"{served.url}/api/admin/systems/{tenant.key}/backups", headers=BEARER).json()["data"]
    assert [answer.status_code for answer in seen["sign_in"]] == [400, 400]
    assert seen["json"].status_code == 400
    assert seen["gzip_chunked"].startswith(b"HTTP/1.1 501 ")
    assert seen["filename"].startswith(b"HTTP/1.1 201 ")
    assert seen["request_id"].startswith(b"HTTP/1.1 200 ")
    assert seen["c0_header"].startswith(b"HTTP/1.1 400 ")
    assert seen["request_id"].startswith(b"HTTP/1.1 200 ")
    assert seen["c0_header"].startswith(b"HTTP/1.1 400 ")
    assert seen["bogus_forwarded"].status_code == 201
    assert seen["long_forwarded"].status_code == 201
    by_id = {b["id"]: b for b in listing}
    assert by_id[seen["bogus_forwarded"].json()["data"]["id"]]["uploader_ip"] is None
    assert by_id[seen["long_forwarded"].json()["data"]["id"]]["uploader_ip"] is None
    assert len(listing) == 3

    text = log.read_text(encoding="utf-8")
    assert not RAW_CONTROL.findall(text), [line for line in text.splitlines() if RAW_CONTROL.search(line)]
    lines = text.splitlines()
    assert not [line for line in lines if line.startswith(FAKE_LINE)]
    if log_format == "json":
        for line in lines:
            json.loads(line)
    warnings = [line for line in lines if "not an IP address" in line]
    assert len(warnings) == 2
    assert all(len(line) < 500 for line in warnings)


def test_failed_admin_tokens_are_limited_per_client_address_behind_a_trusted_proxy(tmp_path: Path) -> None:
    env = environment(tmp_path, admin_token=TOKEN, trusted_proxies=PROXY)
    with serving(env, tmp_path / "serve.log") as served:
        orgs = f"{served.url}/api/admin/orgs"
        with via_proxy("203.0.113.5") as guessing, via_proxy("203.0.113.6") as operator:
            answers = [guessing.get(orgs, headers={"Authorization": f"Bearer guess-{n}"}) for n in range(11)]
            assert [a.status_code for a in answers] == [401] * 10 + [429]
            assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
            assert guessing.get(orgs, headers=BEARER).status_code == 429
            assert operator.get(orgs, headers=BEARER).status_code == 200
            sign_in = operator.get(f"{served.url}/console/sign-in")
            assert sign_in.status_code == 200


@pytest.mark.parametrize("variable", ["BACKUP_ADMIN_TOKEN", "BACKUP_METRICS_TOKEN"])
@pytest.mark.parametrize("command", [["serve", "--port", "1"], ["org", "list"]])
def test_a_weak_token_stops_every_command_with_one_line_naming_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    command: list[str],
) -> None:
    monkeypatch.setenv("BACKUP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(variable, " ")
    assert main(command) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"backup-collect: {variable}: must be at least 32 printable ASCII characters")
    assert not (tmp_path / "backups.db").exists()
