from __future__ import annotations

import gzip

import pytest

from domain.openpgp import looks_encrypted, needed


@pytest.mark.parametrize(
    "prefix",
    [
        b"\x85\x01\x0c",  # old format, tag 1 (PKESK)
        b"\x8c\x0d",  # old format, tag 3 (SKESK)
        b"\xc1\x0c",  # new format, tag 1
        b"\xc3\x0d",  # new format, tag 3
        b"\xd2\x00",  # new format, tag 18 (SEIPD)
        b"\xd4\x00",  # new format, tag 20 (AEAD)
        b"\xa8\x03PGP",  # old format, tag 10 (marker)
        b"-----BEGIN PGP MESSAGE-----\n",
        b" \r\n\t-----BEGIN PGP MESSAGE-----\n",
    ],
)
def test_encrypted_messages_are_recognised(prefix: bytes) -> None:
    assert looks_encrypted(prefix)


@pytest.mark.parametrize(
    "prefix",
    [
        gzip.compress(b"config"),
        b"PK\x03\x04",
        b"plain text config",
        b"-----BEGIN PGP SIGNATURE-----\n",
        b"\xc2\x00",  # new format, tag 2: a signature, not an encrypted message
        b"\x99\x01",  # old format, tag 6: a public key
        b"\xfd7zXZ",
        b"",
    ],
)
def test_other_bodies_are_refused(prefix: bytes) -> None:
    assert not looks_encrypted(prefix)


def test_sniff_waits_for_enough_bytes_of_an_armor_header() -> None:
    assert needed(b"")
    assert needed(b"  ")
    assert needed(b"-----BEGIN")
    assert not needed(b"-----BEGIN PGP MESSAGE-----")
    assert not needed(b"\x85")
    assert not needed(b"hello")
