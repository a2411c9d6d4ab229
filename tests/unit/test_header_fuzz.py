"""Hypothesis over every parser of a request header: whatever a stranger sends, each one answers a value
or the domain's own error, never another exception (which would be a 500)."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

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
