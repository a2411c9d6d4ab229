"""A body on its way to the store: counted, capped and hashed, with hashing off the event loop."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

from domain.errors import TooLarge

# Coalesce the server's small chunks (~64-256 KiB) into blocks hashed in a worker thread while
# the next block arrives; hashlib releases the GIL on large buffers.
BLOCK_SIZE = 4 * 1024 * 1024
# A last block this small is hashed inline: a thread hop costs more than it saves.
INLINE_HASH = 256 * 1024


class MeteredBody:
    """Yields the body in blocks of about `block_size` bytes. Once exhausted, `size` and `sha256`
    describe exactly what was yielded. Crossing `cap` raises TooLarge (key `body`)."""

    def __init__(self, head: bytes, rest: AsyncIterator[bytes], cap: int, block_size: int = BLOCK_SIZE) -> None:
        self._head = head
        self._rest = rest
        self._cap = cap
        self._block_size = block_size
        self._hasher = hashlib.sha256()
        self.size = 0
        self.sha256 = ""

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._blocks()

    async def _blocks(self) -> AsyncIterator[bytes]:
        pending: asyncio.Future[None] | None = None
        parts: list[bytes] = []
        buffered = 0
        async for chunk in self._chunks():
            parts.append(chunk)
            buffered += len(chunk)
            if buffered >= self._block_size:
                block = parts[0] if len(parts) == 1 else b"".join(parts)
                parts.clear()
                buffered = 0
                if pending is not None:
                    await pending
                pending = asyncio.ensure_future(asyncio.to_thread(self._hasher.update, block))
                yield block
        if pending is not None:
            await pending
        if parts:
            block = b"".join(parts)
            if len(block) > INLINE_HASH:
                await asyncio.to_thread(self._hasher.update, block)
            else:
                self._hasher.update(block)
            yield block
        self.sha256 = self._hasher.hexdigest()

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
