"""ObjectStore on obstore: local files, memory or S3, one code path."""

from __future__ import annotations

import builtins
import errno
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import obstore
from obstore.store import LocalStore, MemoryStore, S3Store

from domain.errors import ObjectMissing, StoreFull, StoreUnavailable
from domain.ports import ObjectRead, StoredObject

if TYPE_CHECKING:  # a stub-only name
    from obstore import GetOptions

T = TypeVar("T")
Store = LocalStore | MemoryStore | S3Store
# Multipart uploads: obstore holds up to PART_CONCURRENCY parts in flight plus the one it fills, so
# (4 + 1) x 6 MiB bounds the store's share of an upload's memory. 4 requests in flight keep an S3 server
# busy (a direct put with obstore's defaults is no faster, `just bench`); S3 wants parts of >= 5 MiB.
PART_SIZE = 6 * 1024 * 1024
PART_CONCURRENCY = 4
# Chunks of a download: small enough to keep memory flat per stream, large enough to be cheap.
READ_CHUNK_SIZE = 1024 * 1024
# LocalStore writes `<key>#N` and renames it into place; a crash leaves the temp file.
_TEMP = re.compile(r"#\d+$")
# How S3 servers say a body does not fit (AWS, MinIO, Ceph, HTTP 507), and how a local disk does.
_NO_ROOM = re.compile(r"EntityTooLarge|QuotaExceeded|XMinioStorageFull|InsufficientStorage|No space left on device")


async def _guarded(call: Callable[[], Awaitable[T]]) -> T:
    """Library errors become StoreUnavailable; a missing object becomes ObjectMissing."""
    try:
        return await call()
    except FileNotFoundError as exc:
        raise ObjectMissing(str(exc)) from exc
    except (obstore.exceptions.BaseError, OSError, RuntimeError) as exc:
        if _NO_ROOM.search(str(exc)) or (isinstance(exc, OSError) and exc.errno in {errno.ENOSPC, errno.EDQUOT}):
            raise StoreFull(type(exc).__name__) from exc
        raise StoreUnavailable(type(exc).__name__) from exc


# The body arrives in small chunks; each one crossing into obstore's runtime costs a hop, so they are
# joined into blocks of this size first (the file store writes them unjoined instead).
COALESCE = 4 * 1024 * 1024


class _Counted:
    """Counts what obstore reads from the body, so `put` can report the bytes written; hands it on in
    blocks of about COALESCE bytes."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self.chunks = chunks
        self.size = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        parts: list[bytes] = []
        buffered = 0
        async for chunk in self.chunks:
            self.size += len(chunk)
            parts.append(chunk)
            buffered += len(chunk)
            if buffered >= COALESCE:
                yield b"".join(parts)
                parts, buffered = [], 0
        if parts:
            yield b"".join(parts)


class ObstoreObjectStore:
    def __init__(self, store: Store) -> None:
        self._store = store
        # An S3 store cannot be asked how much room it has: the last upload's fate tells.
        self._full = False

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        counted = _Counted(chunks)
        # Never mode="create" nor use_multipart=False: both buffer the whole body in memory.
        try:
            await _guarded(
                lambda: obstore.put_async(
                    self._store, key, aiter(counted), chunk_size=PART_SIZE, max_concurrency=PART_CONCURRENCY
                )
            )
        except StoreFull:
            self._full = True
            raise
        self._full = False
        return counted.size

    async def delete(self, key: str) -> None:
        local = self._local_path(key)
        if local is not None and _TEMP.search(key):
            # obstore refuses `#N` names, which only its own interrupted writes leave behind.
            local.unlink(missing_ok=True)
            return
        try:
            await _guarded(lambda: obstore.delete_async(self._store, key))
        except ObjectMissing:
            return

    async def get(self, key: str, start: int = 0, end: int | None = None) -> ObjectRead:
        """Opens the object with one request; the bytes follow as the caller pulls them."""
        options: GetOptions = {}
        if end is not None:
            options["range"] = (start, end)
        elif start:
            options["range"] = {"offset": start}
        result = await _guarded(lambda: obstore.get_async(self._store, key, options=options))
        return ObjectRead(size=result.meta["size"], chunks=_chunks(result.stream(min_chunk_size=READ_CHUNK_SIZE)))

    async def list(self, prefix: str) -> AsyncIterator[StoredObject]:
        stream = obstore.list(self._store, prefix=prefix or None)
        while True:
            try:
                batch = await _guarded(stream.__anext__)
            except StopAsyncIteration:
                return
            for meta in batch:
                yield StoredObject(key=meta["path"], size=meta["size"], modified=meta["last_modified"])

    async def ping(self) -> None:
        root = self._local_path("")
        if root is not None and not (root.is_dir() and os.access(root, os.W_OK | os.X_OK)):
            raise StoreUnavailable(f"{root} is not a writable directory")
        await _guarded(lambda: obstore.list_with_delimiter_async(self._store, prefix=None))
        if self._full:
            raise StoreFull("the last upload found no room")

    async def move(self, source: str, target: str) -> None:
        await _guarded(lambda: obstore.rename_async(self._store, source, target))

    async def abandoned(self, older_than: datetime) -> builtins.list[str]:
        root = self._local_path("")
        if root is None or not root.exists():
            return []
        cutoff = older_than.timestamp()
        return sorted(
            path.relative_to(root).as_posix()
            for path in root.rglob("*#*")
            if _TEMP.search(path.name) and path.is_file() and path.stat().st_mtime < cutoff
        )

    def _local_path(self, key: str) -> Path | None:
        if not isinstance(self._store, LocalStore) or self._store.prefix is None:
            return None
        return Path(self._store.prefix) / key


async def _chunks(stream: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    """The stream's buffers as bytes, store failures mid-stream as StoreUnavailable."""
    iterator = aiter(stream)
    while True:
        try:
            buffer = await _guarded(iterator.__anext__)
        except StopAsyncIteration:
            return
        yield bytes(buffer)
