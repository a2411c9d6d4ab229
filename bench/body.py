"""Bodies made from one reused random block, and the single-thread SHA-256 baseline over the same bytes."""

from __future__ import annotations

import hashlib
import os
import time

MiB = 1 << 20
GiB = 1 << 30
BLOCK_SIZE = 4 * MiB
# 0x85: an old-format OpenPGP PKESK packet header, so the service takes the body for ciphertext.
OPENPGP_FIRST_BYTE = 0x85


def make_block(size: int = BLOCK_SIZE) -> bytes:
    """Random bytes (incompressible, like ciphertext) starting with an OpenPGP packet byte."""
    block = bytearray(os.urandom(size))
    block[0] = OPENPGP_FIRST_BYTE
    return bytes(block)


def unique_prefix(size: int = 16) -> bytes:
    """Fresh random bytes opening with an OpenPGP packet byte: put before a reused block, they make a body
    no earlier upload sent."""
    return bytes([OPENPGP_FIRST_BYTE]) + os.urandom(size - 1)


def pieces(block: bytes, total: int) -> list[memoryview]:
    """The body of `total` bytes as views of `block`: whole blocks, then one partial one."""
    view = memoryview(block)
    whole, rest = divmod(total, len(block))
    return [view] * whole + ([view[:rest]] if rest else [])


def sha256_seconds(block: bytes, total: int) -> float:
    """Seconds one thread takes to hash the `total`-byte body: the physical limit of ingest."""
    digest = hashlib.sha256()
    started = time.perf_counter()
    for piece in pieces(block, total):
        digest.update(piece)
    digest.hexdigest()
    return time.perf_counter() - started
