"""Bodies made from one reused random block, and the single-thread SHA-256 baseline over the same bytes."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

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


def write_seconds(block: bytes, total: int, directory: Path) -> float:
    """Seconds to write(2) the body to a new file in `directory` (into the page cache, as the embedded
    store does), close it and rename it into place; the file is deleted afterwards."""
    staging, final = directory / "bench-write.tmp", directory / "bench-write"
    started = time.perf_counter()
    with staging.open("wb", buffering=0) as file:
        for piece in pieces(block, total):
            file.write(piece)
    staging.rename(final)
    seconds = time.perf_counter() - started
    final.unlink()
    return seconds
