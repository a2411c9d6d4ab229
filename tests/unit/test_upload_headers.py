from __future__ import annotations

import base64
import hashlib

import pytest

from adapters.http.upload_headers import expected_digests, idempotency_key, repr_digest
from domain.errors import InvalidInput

SHA256 = hashlib.sha256(b"x").digest()
SHA512 = hashlib.sha512(b"x").digest()


def colon(digest: bytes) -> str:
    return f":{base64.b64encode(digest).decode()}:"


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ('"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ('  "a \\"quoted\\" one"  ', 'a "quoted" one'),
        ("x" * 255, "x" * 255),
        (None, None),
    ],
)
def test_idempotency_keys_as_sf_strings_or_bare_tokens(header: str | None, key: str | None) -> None:
    assert idempotency_key(header) == key


@pytest.mark.parametrize(
    "header", ["", '""', "a b", "x" * 256, '"open', '"x"y', '"\\n"', "caf\u00e9", '"' + "y" * 256 + '"']
)
def test_malformed_idempotency_keys_are_invalid(header: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        idempotency_key(header)
    assert refused.value.key == "Idempotency-Key"


def test_digest_fields_yield_the_known_algorithms_of_each_header_and_ignore_others() -> None:
    found = expected_digests(
        {
            "Content-Digest": f"md5=:AAAA:, sha-256={colon(SHA256)};p=1, unixsum=42",
            "Repr-Digest": f"sha-512={colon(SHA512)}",
        }
    )
    assert [(d.header, d.algorithm, d.value) for d in found] == [
        ("Content-Digest", "sha-256", SHA256),
        ("Repr-Digest", "sha-512", SHA512),
    ]
    assert expected_digests({"Content-Digest": None}) == ()


@pytest.mark.parametrize(
    "field", [f"sha-256={colon(SHA512)}", "sha-256=:%%%:", "sha-256", f"sha-512={colon(SHA256)}", "Sha-256=:x:", ","]
)
def test_malformed_digest_fields_are_invalid_keyed_by_their_header(field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        expected_digests({"Repr-Digest": field})
    assert refused.value.key == "Repr-Digest"


def test_repr_digest_is_the_base64_of_the_stored_sha256() -> None:
    assert repr_digest(hashlib.sha256(b"x").hexdigest()) == f"sha-256={colon(SHA256)}"
