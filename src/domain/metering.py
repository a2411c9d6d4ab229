"""A body on its way to the store: counted, capped and hashed, with the heavy work off the event loop."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Collection
from concurrent.futures import ThreadPoolExecutor

from domain.errors import TooLarge

# The server's chunks (~64-256 KiB) are hashed in batches of this size: hashing releases the GIL, so one
# worker thread hashes a batch while the event loop receives the next one.
BLOCK_SIZE = 4 * 1024 * 1024
# RFC 9530 names of the digests a client may ask to be verified, and hashlib's names for them.
ALGORITHMS = {"sha-256": "sha256", "sha-512": "sha512"}
# A last block this small is hashed inline: a thread hop costs more than it saves.
INLINE_HASH = 256 * 1024
# Workers shared by every upload of the process: all cores but the one the event loop runs on, so
# concurrent uploads cannot starve the loop (and /api/health) of CPU.
_WORKERS = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="metering")


class MeteredBody:
    """Yields the body's chunks as they arrive. Once exhausted, `size` and `sha256` describe exactly
    what was yielded. Crossing `cap` raises TooLarge (key `body`).

    Chunks pass through untouched (no join: the store writes them with one writev per block); they are
    hashed in batches of about `block_size` bytes in a worker thread, one batch at a time and in order,
    while the store writes and the next batch arrives. Chunks are immutable `bytes`, so the hasher and
    the store can share them."""

    def __init__(
        self,
        head: bytes,
        rest: AsyncIterator[bytes],
        cap: int,
        block_size: int = BLOCK_SIZE,
        also: Collection[str] = (),
    ) -> None:
        """`also`: further digests to compute (`sha-512`), only when a client declared one."""
        self._head = head
        self._rest = rest
        self._cap = cap
        self._block_size = block_size
        self._hasher = hashlib.sha256()
        self._others = {name: hashlib.new(ALGORITHMS[name]) for name in also if name != "sha-256"}
        self.size = 0
        self.sha256 = ""

    def digest(self, algorithm: str) -> bytes:
        """The raw digest of what was yielded, by RFC 9530 name (`sha-256`, or one asked for in `also`)."""
        if algorithm == "sha-256":
            return bytes.fromhex(self.sha256)
        return self._others[algorithm].digest()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._blocks()

    async def _blocks(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        pending: asyncio.Future[None] | None = None
        parts: list[bytes] = []
        buffered = 0
        async for chunk in self._chunks():
            parts.append(chunk)
            buffered += len(chunk)
            if buffered >= self._block_size:
                if pending is not None:
                    await pending
                pending = loop.run_in_executor(_WORKERS, self._digest, parts)
                parts = []
                buffered = 0
            yield chunk
        if pending is not None:
            await pending
        if buffered > INLINE_HASH:
            await loop.run_in_executor(_WORKERS, self._digest, parts)
        else:
            self._digest(parts)
        self.sha256 = self._hasher.hexdigest()

    def _digest(self, parts: list[bytes]) -> None:
        for part in parts:
            self._hasher.update(part)
            for other in self._others.values():
                other.update(part)

    async def _chunks(self) -> AsyncIterator[bytes]:
        if self._head:
            self._count(self._head)
            yield self._head
        async for chunk in self._rest:
            if chunk:
                self._count(chunk)
                yield chunk

    def _count(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._cap:
            raise TooLarge("body", "body exceeds the upload cap", "", {"limit_bytes": self._cap})
