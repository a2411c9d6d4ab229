"""The file store's writer threads, and one durable `put` under way on them (`DurableWrite`)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from adapters.objectstore.disk import Disk
from domain.errors import StoreFull, StoreUnavailable

T = TypeVar("T")
# A write refused for want of room: the disk is full, or the user's quota on it is spent.
_NO_ROOM = {errno.ENOSPC, errno.EDQUOT}
# File I/O releases the GIL. An upload has up to `DurableWrite.DEPTH` (3) blocks in flight, each written at
# its own offset, so blocks need no ordering among themselves; `seal` waits for all of them.
IO = ThreadPoolExecutor(max_workers=8, thread_name_prefix="filestore")


async def settled(future: Future[T]) -> T:
    """The thread's result. Cancelling the caller does not abandon the thread's work: it waits for the
    call to end first, so nothing (a rename, a close) happens behind the back of whoever cleans up."""
    wrapped = asyncio.wrap_future(future)
    try:
        return await asyncio.shield(wrapped)
    except asyncio.CancelledError:
        while not wrapped.done():
            try:
                await asyncio.wait({wrapped})
            except asyncio.CancelledError:
                continue
        raise
    except OSError as exc:
        if exc.errno in _NO_ROOM:
            raise StoreFull(exc.strerror or str(exc)) from exc
        raise StoreUnavailable(f"{type(exc).__name__}: {exc.strerror or exc}") from exc


async def in_thread(call: Callable[[], T]) -> T:
    return await settled(IO.submit(call))


class DurableWrite:
    """One `put` under way: a temp file beside the target, written a block at a time, up to DEPTH blocks
    in flight in the writer threads (each at its own offset) while the next block arrives."""

    DEPTH = 3

    def __init__(self, disk: Disk, fd: int, temp: Path, target: Path) -> None:
        self._disk, self._fd, self._temp, self._target = disk, fd, temp, target
        self._offset = 0
        self._inflight: deque[Future[None]] = deque()
        self._lock = threading.Lock()
        self._closed = False  # closed by the writer thread (seal) or the event loop (abandon), once

    async def write(self, parts: list[bytes]) -> None:
        """Hand `parts` to a writer thread once fewer than DEPTH blocks are in flight."""
        while len(self._inflight) >= self.DEPTH:
            await settled(self._inflight.popleft())
        offset = self._offset
        self._offset += sum(map(len, parts))
        self._inflight.append(IO.submit(self._write, parts, offset))

    async def seal(self, parts: list[bytes]) -> int:
        """Write the rest, fsync, rename into place, fsync the directory; the size written."""
        while self._inflight:
            await settled(self._inflight.popleft())
        return await in_thread(lambda: self._seal(parts))

    def seal_now(self, parts: list[bytes]) -> int:
        """`seal` within the writer thread, for a body that fit in one block; cleans up if it fails."""
        try:
            return self._seal(parts)
        except BaseException:
            self.abandon()
            raise

    async def drain(self) -> None:
        """Wait for the blocks still in flight, whatever became of them (the put is failing already)."""
        while self._inflight:
            with contextlib.suppress(Exception):
                await settled(self._inflight.popleft())

    def abandon(self) -> None:
        """Remove the temp file and close it; no writer thread uses it any more (see `drain`)."""
        self._disk.unlink(self._temp)
        self._close()

    def _close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._disk.close(self._fd)

    def _write(self, parts: list[bytes], offset: int) -> None:
        length = self._disk.write(self._fd, parts, offset)
        self._disk.start_writeback(self._fd, offset, length)

    def _seal(self, parts: list[bytes]) -> int:
        if parts:
            self._disk.write(self._fd, parts, self._offset)
            self._offset += sum(map(len, parts))
        self._disk.fsync(self._fd)
        self._close()
        self._disk.rename(self._temp, self._target)
        try:
            self._disk.fsync_dir(self._target.parent)
        except OSError:
            self._disk.unlink(self._target)  # in place but not durable: not acknowledged, so not kept
            raise
        return self._offset
