"""Nothing a stranger sends gets a 5xx: schemathesis against a real server's own OpenAPI document, with no
credentials, with an appliance's Basic credentials and with the admin token, valid and invalid requests alike.

Bounded: BACKUP_FUZZ_EXAMPLES generated requests per operation, mode and kind (default 2; `just fuzz` runs more).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from tests.integration.live import live_server, provision, raw_request, settings_for
from tests.unit.fakes import pgp
from tests.unit.test_header_fuzz import HEADER_NAMES, ROUTES, form_body

ADMIN_TOKEN = "fuzz-admin-token-0123456789abcdef0123"
EXAMPLES = int(os.environ.get("BACKUP_FUZZ_EXAMPLES", "2"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    config = settings_for(
        Path(tmp_path_factory.mktemp("fuzz")),
        admin_token=ADMIN_TOKEN,
        rate_limit_per_minute="0",
        rate_limit_per_hour="0",
        max_upload_size="64KiB",
    )
    tenant = provision(config)[0]
    basic = "Basic " + base64.b64encode(f"{tenant.key}:{tenant.secret}".encode()).decode()
    with live_server(config) as url:
        assert httpx.post(url + "/api/systems/backups", content=pgp(100), auth=tenant.auth).status_code == 201
        modes = {
            "anonymous": {},
            "basic": {"Authorization": basic},
            "admin": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
        }
        yield url, modes


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server of its own (the schemathesis run's wrong admin tokens throttle its address) and the cookies
    of a console session on it."""
    config = settings_for(Path(tmp_path_factory.mktemp("fuzz-bodies")), admin_token=ADMIN_TOKEN)
    with live_server(config) as url:
        yield url, console_cookie(url)


def console_cookie(url: str) -> str:
    """The cookies of a console session signed in on the server at `url`."""
    with httpx.Client(base_url=url, timeout=30) as http:
        form = http.get("/console/sign-in")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf
        signed_in = http.post("/console/sign-in", data={"token": ADMIN_TOKEN, "csrf": csrf.group(1)})
        assert signed_in.status_code == 303, signed_in.text
        return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def operations(url: str) -> list[Any]:
    api = schemathesis.openapi.from_url(f"{url}/api/schema/openapi.json")
    found = []
    for result in api.get_all_operations():
        assert isinstance(result, Ok), result
        found.append(result.ok())
    return found


def no_server_error(operation: Any, mode: GenerationMode, url: str, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def answers(case: Any) -> None:
        case.call_and_validate(base_url=url, headers=headers, checks=[not_a_server_error], timeout=30)

    try:
        answers()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise  # an operation without anything to make invalid has no negative cases


@pytest.mark.parametrize("credentials", ["anonymous", "basic", "admin"])
def test_no_generated_request_gets_a_server_error(
    served: tuple[str, dict[str, dict[str, str]]], credentials: str
) -> None:
    url, modes = served
    found = operations(url)
    assert len(found) >= 20
    for operation in found:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            no_server_error(operation, mode, url, modes[credentials])
    assert httpx.get(url + "/api/health").status_code == 200


@settings(max_examples=50 * EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    route=st.sampled_from([r for r in ROUTES if r[0] != "OPTIONS"]),
    form=form_body(),
    # Not a second Authorization: wrong admin tokens would throttle this address, and the bodies go unread.
    raw_headers=st.lists(
        st.tuples(st.sampled_from([h for h in HEADER_NAMES if h != "authorization"]), st.binary(max_size=60)),
        max_size=3,
    ),
)
def test_no_body_or_header_bytes_get_a_server_error_from_a_real_server(
    signed_in: tuple[str, str],
    route: tuple[str, str],
    form: tuple[bytes, bytes],
    raw_headers: list[Any],
) -> None:
    """Multipart and form bodies of any bytes and charsets, JSON that is not UTF-8, and header values of
    any bytes (control characters included: the HTTP parser may refuse those first) on the wire."""
    url, cookie = signed_in
    method, path = route
    content_type, body = form
    head = f"{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n".encode()
    head += b"Authorization: Bearer " + ADMIN_TOKEN.encode() + b"\r\nCookie: " + cookie.encode() + b"\r\n"
    head += b"Content-Type: " + content_type.replace(b"\r", b"").replace(b"\n", b"") + b"\r\n"
    for name, value in raw_headers:
        head += name.encode() + b": " + value.replace(b"\r\n", b" ") + b"\r\n"
    head += f"Content-Length: {len(body)}\r\n\r\n".encode()
    try:
        answer = raw_request(url, head, [body], read_all=True)
    except (ConnectionResetError, BrokenPipeError):
        answer = b""  # the server refused the head and hung up while the body was on its way
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    # No answer at all: the server hung up on an unparseable head (allowed); 501: a transfer coding.
    assert status < 500 or status == 501, (head, body, answer[:300])
