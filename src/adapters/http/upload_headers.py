"""The upload's retry and integrity headers: `Idempotency-Key` and RFC 9530 `Content-Digest` / `Repr-Digest`."""

from __future__ import annotations

import base64
import binascii
import re

from domain.errors import InvalidInput
from domain.model import ExpectedDigest

IDEMPOTENCY_KEY = "Idempotency-Key"
DIGEST_HEADERS = ("Content-Digest", "Repr-Digest")
# Verified algorithms and their digest lengths; any other member of the dictionary is ignored.
_LENGTHS = {"sha-256": 32, "sha-512": 64}
_TOKEN = re.compile(r"[\x21-\x7e]{1,255}")
_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
_MEMBER = re.compile(r"([a-z*][a-z0-9_.*-]*)(?:=([^;]*))?(;.*)?")
_BYTES = re.compile(r":([A-Za-z0-9+/]*={0,2}):")


def idempotency_key(header: str | None) -> str | None:
    """The key: an sf-string (`"..."`, draft-ietf-httpapi-idempotency-key-header) or a bare token, 1-255
    visible ASCII characters either way (a value opening with `"` must be a whole sf-string). Raises
    InvalidInput (400, key Idempotency-Key) otherwise."""
    if header is None:
        return None
    value = header.strip(" \t")
    quoted = _STRING.fullmatch(value)
    key = re.sub(r"\\(.)", r"\1", quoted.group(1)) if quoted else value
    bare = not value.startswith('"') and _TOKEN.fullmatch(value)
    if not (quoted or bare) or not 1 <= len(key) <= 255:
        raise InvalidInput(IDEMPOTENCY_KEY, "must be a string of 1-255 visible ASCII characters", header[:300])
    return key


def expected_digests(headers: dict[str, str | None]) -> tuple[ExpectedDigest, ...]:
    """Every `sha-256` / `sha-512` member of the digest fields present, by header name (as in
    DIGEST_HEADERS). Raises InvalidInput keyed by the header when a field is not a valid dictionary or
    a known algorithm's value is not a byte sequence of the right length."""
    found: list[ExpectedDigest] = []
    for name in DIGEST_HEADERS:
        value = headers.get(name)
        if value is not None:
            found.extend(_members(name, value))
    return tuple(found)


def _members(name: str, field: str) -> list[ExpectedDigest]:
    members: dict[str, bytes] = {}
    for raw in field.split(","):
        member = _MEMBER.fullmatch(raw.strip(" \t"))
        if member is None:
            raise InvalidInput(name, "not a dictionary of algorithm=:base64: digests", field[:300])
        algorithm, value = member.group(1), (member.group(2) or "").strip(" \t")
        if algorithm not in _LENGTHS:
            continue
        sequence = _BYTES.fullmatch(value)
        digest = _decode(sequence.group(1)) if sequence else None
        if digest is None or len(digest) != _LENGTHS[algorithm]:
            raise InvalidInput(name, f"{algorithm} is not a {_LENGTHS[algorithm]}-byte :base64: value", field[:300])
        members[algorithm] = digest  # a repeated key: the last one counts, as in any sf-dictionary
    return [ExpectedDigest(name, algorithm, digest) for algorithm, digest in members.items()]


def _decode(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        return None


def repr_digest(sha256_hex: str) -> str:
    """The `Repr-Digest` of a stored backup: `sha-256=:<base64>:`."""
    return f"sha-256=:{base64.b64encode(bytes.fromhex(sha256_hex)).decode()}:"
