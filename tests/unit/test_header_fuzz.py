"""Hypothesis over every parser of a request header: whatever a stranger sends, each one answers a value
or the domain's own error, never another exception (which would be a 500)."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.http.auth import basic_credentials
from adapters.http.backups import _utf8
from adapters.http.download import etag, range_request
from adapters.http.upload_headers import DIGEST_HEADERS, expected_digests, idempotency_key
from domain.errors import InvalidInput, RangeNotSatisfiable, Unauthenticated
from domain.model import Backup
from domain.naming import MAX_NAME_LENGTH, derive_name
from domain.ranges import resolve

T = TypeVar("T")
# Header values reach the application decoded as latin-1: any code point up to 255.
LATIN1 = st.text(st.characters(max_codepoint=255), max_size=300)
DIGITS = st.text("0123456789", min_size=0, max_size=6000)
UUID = "01900000-0000-7000-8000-000000000000"
BACKUP = Backup(
    id=f"{UUID}.tar.gz",
    system_id="s",
    org_id="o",
    object_key=f"o/k/{UUID}.tar.gz",
    filename="daily.tar.gz",
    envelope=".gpg",
    size=1000,
    sha256="ab" * 32,
    mimetype="application/gzip",
    uploaded_at=datetime(2026, 4, 12, tzinfo=UTC),
)
# `just fuzz` raises BACKUP_FUZZ_EXAMPLES (default 2) for a longer, still bounded run.
EXAMPLES = settings(max_examples=150 * int(os.environ.get("BACKUP_FUZZ_EXAMPLES", "2")), deadline=None)


def _latin1_of(raw: bytes) -> str:
    return raw.decode("latin-1")


def attempt(call: Callable[[], T]) -> T | InvalidInput:
    """The call's value, or the InvalidInput it raised; any other exception fails the test."""
    try:
        return call()
    except InvalidInput as error:
        return error


@EXAMPLES
@given(
    st.one_of(
        LATIN1,
        LATIN1.map(lambda t: "Basic " + t),
        st.binary(max_size=200).map(lambda b: "Basic " + base64.b64encode(b).decode()),
        st.binary(max_size=200).map(lambda b: "Basic " + _latin1_of(b)),
    )
)
def test_authorization_is_credentials_or_unauthenticated(header: str) -> None:
    try:
        key, secret = basic_credentials(header)
    except Unauthenticated:
        return
    assert key
    assert secret


@EXAMPLES
@given(
    st.one_of(
        LATIN1,
        st.tuples(DIGITS, DIGITS).map(lambda r: f"bytes={r[0]}-{r[1]}"),
        st.tuples(LATIN1, DIGITS, LATIN1, DIGITS).map(lambda r: f"{r[0]}bytes={r[1]}-{r[2]}{r[3]}"),
    ),
    st.one_of(st.none(), LATIN1, st.just(etag(BACKUP))),
    st.integers(min_value=0, max_value=2**40),
)
def test_range_is_a_span_unsatisfiable_or_the_whole_backup(header: str, if_range: str | None, size: int) -> None:
    wanted = range_request(header, if_range, BACKUP)
    try:
        span = resolve(wanted, size)
    except RangeNotSatisfiable:
        return
    assert 0 <= span.start <= span.end <= size


@EXAMPLES
@given(st.one_of(st.none(), LATIN1, st.binary(max_size=400).map(_latin1_of)))
def test_x_filename_always_gives_a_safe_name(header: str | None) -> None:
    name = derive_name(_utf8(header), UUID)
    assert 0 < len(name.filename) <= MAX_NAME_LENGTH
    assert re.fullmatch(r"[A-Za-z0-9._-]+", name.filename)
    assert not name.filename.startswith(".")


@EXAMPLES
@given(st.one_of(st.none(), LATIN1, LATIN1.map(lambda t: f'"{t}"')))
def test_idempotency_key_is_a_key_or_invalid_input(header: str | None) -> None:
    key = attempt(lambda: idempotency_key(header))
    if isinstance(key, InvalidInput):
        assert key.key == "Idempotency-Key"
        assert len(key.value) <= 300
    else:
        assert key is None or 1 <= len(key) <= 255


DIGEST_VALUE = st.one_of(
    LATIN1,
    st.binary(max_size=80).map(lambda b: f"sha-256=:{base64.b64encode(b).decode()}:"),
    st.tuples(st.sampled_from(["sha-256", "sha-512", "md5", "SHA-256", "*x"]), LATIN1).map("=".join),
    st.lists(LATIN1, max_size=5).map(",".join),
)


@EXAMPLES
@given(st.one_of(st.none(), DIGEST_VALUE), st.one_of(st.none(), DIGEST_VALUE))
def test_digest_fields_are_digests_or_invalid_input(content: str | None, representation: str | None) -> None:
    headers = dict(zip(DIGEST_HEADERS, (content, representation), strict=True))
    found = attempt(lambda: expected_digests(headers))
    if isinstance(found, InvalidInput):
        assert found.key in DIGEST_HEADERS
        return
    for digest in found:
        assert len(digest.value) == {"sha-256": 32, "sha-512": 64}[digest.algorithm]


# --- whole requests, in process: header values with control characters, undecodable bodies -----------

ROUTES = [
    ("POST", "/api/systems/backups"),
    ("GET", "/api/systems/backups"),
    ("GET", f"/api/systems/backups/{UUID}.tar.gz"),
    ("POST", "/api/admin/orgs"),
    ("PATCH", f"/api/admin/orgs/{UUID}"),
    ("POST", f"/api/admin/orgs/{UUID}/systems"),
    ("GET", "/console"),
    ("POST", "/console/sign-in"),
    ("POST", "/console/sign-out"),
    ("POST", "/console/systems/fw/suspend"),
    ("OPTIONS", "/api/systems/backups"),
    ("GET", "/metrics"),
]
HEADER_NAMES = [
    "authorization",
    "content-type",
    "x-filename",
    "x-request-id",
    "idempotency-key",
    "range",
    "cookie",
    "transfer-encoding",
    "content-digest",
    "x-forwarded-for",
    "user-agent",
]
# Any byte, control characters (CR, LF, NUL, ESC, DEL) and obs-text included: what a hand-written client
# or a broken proxy can put in a header value.
RAW_VALUE = st.binary(max_size=120)
CHARSETS = st.one_of(
    st.just("utf-8"),
    st.sampled_from(["utf-8", "latin-1", "utf-16", "x-bogus", "", "utf-8\x1b", "idna", "rot13", "base64"]),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=12),
)


@st.composite
def form_body(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A multipart or urlencoded form, or JSON, whose bytes and declared charsets are anything."""
    kind = draw(st.sampled_from(["multipart", "urlencoded", "json", "raw"]))
    charset = draw(CHARSETS).encode("latin-1", "replace")
    if kind == "multipart":
        parts = b""
        for name, value, part_charset in draw(
            st.lists(
                st.tuples(st.sampled_from(["token", "csrf", "x"]), st.binary(min_size=1, max_size=40), CHARSETS),
                min_size=1,
                max_size=4,
            )
        ):
            parts += b'--bb\r\nContent-Disposition: form-data; name="' + name.encode() + b'"\r\n'
            parts += b"Content-Type: text/plain; charset=" + part_charset.encode("latin-1", "replace") + b"\r\n\r\n"
            parts += value + b"\r\n"
        ending = draw(st.sampled_from([b"--bb--\r\n", b"--bb--\r\n", b"--bb--\r\n", b"", b"--bb", b"--b"]))
        return b"multipart/form-data; boundary=bb; charset=" + charset, parts + ending
    if kind == "urlencoded":
        return b"application/x-www-form-urlencoded; charset=" + charset, draw(st.binary(max_size=120))
    if kind == "json":
        text = draw(st.sampled_from([b'{"name": "%s"}', b'{"quota_bytes": %s}', b'{"system_key": "%s"}', b"%s"]))
        return b"application/json; charset=" + charset, text.replace(b"%s", draw(st.binary(min_size=1, max_size=40)))
    return draw(st.binary(max_size=40)), draw(st.binary(max_size=120))


def _console_app() -> Iterator[Any]:
    from adapters.memory.clock import FrozenClock
    from tests.unit.test_console_http import START, TOKEN, make_client, sign_in

    with make_client(FrozenClock(START), BACKUP_ADMIN_TOKEN=TOKEN) as http:
        sign_in(http)
        yield http


async def _call(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes, client: str) -> int:
    """One request straight into the ASGI application; the status it answered (0: none)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": (client, 40000),
        "server": ("testserver", 80),
        "state": {},
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = 0

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


@settings(max_examples=100 * int(os.environ.get("BACKUP_FUZZ_EXAMPLES", "2")), deadline=None)
@given(
    route=st.sampled_from(ROUTES),
    headers=st.lists(st.tuples(st.sampled_from(HEADER_NAMES).map(str.encode), RAW_VALUE), max_size=6),
    form=form_body(),
    signed_in=st.booleans(),
    bearer=st.booleans(),
    # A client address of its own, most of the time: wrong admin tokens are throttled per address.
    client=st.integers(min_value=0, max_value=2**16 - 1).map(lambda n: f"10.{n >> 8}.{n & 255}.1"),
)
def test_no_header_value_or_body_gets_a_server_error(
    route: tuple[str, str],
    headers: list[tuple[bytes, bytes]],
    form: tuple[bytes, bytes],
    signed_in: bool,
    bearer: bool,
    client: str,
) -> None:
    method, path = route
    content_type, body = form
    http = APP["client"]
    sent = [*headers, (b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if bearer:
        sent.append((b"authorization", f"Bearer {APP['token']}".encode()))
    if signed_in:
        cookies = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
        sent.append((b"cookie", cookies.encode()))
    status = http.blocking_portal.call(_call, http.app, method, path, sent, body, client)
    # 501 is SPEC's answer to a transfer coding other than chunked; no other 5xx.
    assert 0 < status < 500 or status == 501, (method, path, sent, body)


APP: dict[str, Any] = {}


@pytest.fixture(autouse=True, scope="module")
def _signed_in_console() -> Iterator[None]:
    from tests.unit.test_console_http import TOKEN

    for http in _console_app():
        APP["client"], APP["token"] = http, TOKEN
        yield
