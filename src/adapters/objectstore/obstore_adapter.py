"""ObjectStore on obstore: local files, memory or S3, one code path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

import obstore
from obstore.store import LocalStore, MemoryStore, S3Store

from domain.errors import ObjectMissing, StoreUnavailable
from domain.ports import StoredObject

T = TypeVar("T")
Store = LocalStore | MemoryStore | S3Store
# Part size of multipart uploads: obstore buffers one part per concurrent request.
PART_SIZE = 8 * 1024 * 1024
PART_CONCURRENCY = 2


async def _guarded(call: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Library errors become StoreUnavailable; a missing object becomes ObjectMissing."""
    try:
        return await call()
    except FileNotFoundError as exc:
        raise ObjectMissing(str(exc)) from exc
    except (obstore.exceptions.BaseError, OSError, RuntimeError) as exc:
        raise StoreUnavailable(type(exc).__name__) from exc


class _Counted:
    """Counts what obstore reads from the body, so `put` can report the bytes written."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self.chunks = chunks
        self.size = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.chunks:
            self.size += len(chunk)
            yield chunk


class ObstoreObjectStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        counted = _Counted(chunks)
        # Never mode="create" nor use_multipart=False: both buffer the whole body in memory.
        await _guarded(
            lambda: obstore.put_async(
                self._store, key, aiter(counted), chunk_size=PART_SIZE, max_concurrency=PART_CONCURRENCY
            )
        )
        return counted.size

    async def delete(self, key: str) -> None:
        try:
            await _guarded(lambda: obstore.delete_async(self._store, key))
        except ObjectMissing:
            return

    async def head(self, key: str) -> StoredObject | None:
        try:
            meta = await _guarded(lambda: obstore.head_async(self._store, key))
        except ObjectMissing:
            return None
        return StoredObject(key=meta["path"], size=meta["size"])

    async def list(self, prefix: str) -> AsyncIterator[StoredObject]:
        stream = obstore.list(self._store, prefix=prefix or None)
        while True:
            try:
                batch = await _guarded(stream.__anext__)
            except StopAsyncIteration:
                return
            for meta in batch:
                yield StoredObject(key=meta["path"], size=meta["size"])

    async def ping(self) -> None:
        await _guarded(lambda: obstore.list_with_delimiter_async(self._store, prefix=None))
