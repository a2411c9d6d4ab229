"""ObjectStore on a local directory, durable before `put` returns (obstore's LocalStore never syncs)."""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from adapters.objectstore.disk import Disk
from adapters.objectstore.durable import DurableWrite, in_thread
from domain.errors import ObjectMissing, StoreFull, StoreUnavailable
from domain.ports import ObjectRead, StoredObject

# Chunks are gathered into blocks this large, each written with one writev while the next arrives.
BLOCK_SIZE = 4 * 1024 * 1024
READ_CHUNK_SIZE = 1024 * 1024
# A write interrupted by a crash leaves `<key>#N`; `abandoned` finds those for the reaper.
_TEMP = re.compile(r"#\d+$")
# Less free space than this (for the service's user) and `ping` reports the store full.
FULL_BELOW = 1024 * 1024


class FileObjectStore:
    """Objects as files under `root` (`<root>/<key>`). `put` writes `<key>#N` in the target directory,
    starts its writeback block by block while the body arrives, and returns only after fsync, rename and
    a directory fsync: an acknowledged object survives a power cut. `disk` is the system-call seam."""

    def __init__(self, root: Path, disk: Disk | None = None) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()
        self._disk = disk or Disk()

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        """The temp file is created with the first full block; a body smaller than a block is written,
        synced and renamed in one call of the writer thread (a small upload costs one thread hop)."""
        target = self._path(key)
        write: DurableWrite | None = None
        try:
            parts: list[bytes] = []
            buffered = 0
            async for chunk in chunks:
                parts.append(chunk)
                buffered += len(chunk)
                if buffered >= BLOCK_SIZE:
                    if write is None:
                        write = await in_thread(lambda: self._begin(target))
                    await write.write(parts)
                    parts, buffered = [], 0
            if write is None:
                whole = parts
                return await in_thread(lambda: self._begin(target).seal_now(whole))
            return await write.seal(parts)
        except BaseException:
            if write is not None:
                try:
                    await write.drain()
                finally:
                    write.abandon()
            raise

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await in_thread(lambda: path.unlink(missing_ok=True))

    async def get(self, key: str, start: int = 0, end: int | None = None) -> ObjectRead:
        path = self._path(key)

        def open_for_reading() -> int:
            try:
                return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                raise ObjectMissing(key) from None

        fd = await in_thread(open_for_reading)
        size = os.fstat(fd).st_size
        return ObjectRead(size=size, chunks=_read(fd, start, size if end is None else min(end, size)))

    async def move(self, source: str, target: str) -> None:
        origin, destination = self._path(source), self._path(target)

        def rename() -> None:
            if not origin.is_file():
                raise ObjectMissing(source)
            self._disk.make_dirs(destination.parent, self.root)
            try:
                self._disk.rename(origin, destination)
            except FileNotFoundError:
                raise ObjectMissing(source) from None  # taken away since it was seen
            self._disk.fsync_dir(destination.parent)
            self._disk.fsync_dir(origin.parent)

        await in_thread(rename)

    async def abandoned(self, older_than: datetime) -> builtins.list[str]:
        """Temp files (`<key>#N`) older than `older_than`, found by a walk in a writer thread, as `list` does."""
        return await in_thread(partial(_temp_files, self.root, older_than.timestamp()))

    async def list(self, prefix: str) -> AsyncIterator[StoredObject]:
        """Objects whose key lies under the path `prefix` (whole segments, as obstore lists)."""
        base = self._path(prefix.strip("/")) if prefix.strip("/") else self.root
        found = await in_thread(lambda: _walk(self.root, base))
        for item in found:
            yield item

    async def ping(self) -> None:
        """StoreUnavailable unless the root is a writable directory; StoreFull when it has no room left."""
        if not (self.root.is_dir() and os.access(self.root, os.W_OK | os.X_OK)):
            raise StoreUnavailable(f"{self.root} is not a writable directory")
        free = await in_thread(lambda: self._disk.free_bytes(self.root))
        if free < FULL_BELOW:
            raise StoreFull(f"{free} bytes free under {self.root}")

    def _begin(self, target: Path) -> DurableWrite:
        self._disk.make_dirs(target.parent, self.root)
        fd, temp = self._disk.create_temp(target)
        return DurableWrite(self._disk, fd, temp, target)

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or any(part in {"", ".", ".."} or "\0" in part for part in parts):
            raise StoreUnavailable(f"invalid object key {key!r}")
        return self.root.joinpath(*parts)


def _temp_files(root: Path, cutoff: float) -> builtins.list[str]:
    found = []
    for path in root.rglob("*#*"):
        try:
            if _TEMP.search(path.name) and path.is_file() and path.stat().st_mtime < cutoff:
                found.append(path.relative_to(root).as_posix())
        except FileNotFoundError:
            continue  # sealed or removed while we looked
    return sorted(found)


def _walk(root: Path, base: Path) -> builtins.list[StoredObject]:
    if not base.is_dir():
        return []
    found = []
    for directory, _dirs, files in os.walk(base):
        for name in files:
            if _TEMP.search(name):
                continue
            path = Path(directory, name)
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # deleted while we listed
            modified = datetime.fromtimestamp(stat.st_mtime, UTC)
            found.append(StoredObject(key=path.relative_to(root).as_posix(), size=stat.st_size, modified=modified))
    return sorted(found, key=lambda item: item.key)


async def _read(fd: int, start: int, end: int) -> AsyncIterator[bytes]:
    try:
        offset = start
        while offset < end:
            chunk = await in_thread(partial(os.pread, fd, min(READ_CHUNK_SIZE, end - offset), offset))
            if not chunk:
                return
            offset += len(chunk)
            yield chunk
    finally:
        os.close(fd)
