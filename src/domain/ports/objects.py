"""Ports: where the backups' bytes are kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    modified: datetime | None = None


@dataclass(frozen=True, slots=True)
class ObjectRead:
    """An object being read: its total `size` and the requested bytes, streamed in `chunks`."""

    size: int
    chunks: AsyncIterator[bytes]


class ObjectStore(Protocol):
    """Blob storage. Raises StoreUnavailable when the store fails."""

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        """Stream `chunks` under `key`; return the bytes written. A DomainError raised by `chunks` (cap
        crossed, client gone) propagates unchanged and leaves no object behind; an I/O failure while
        writing is StoreUnavailable, whichever side of the pipe it came from."""
        ...

    async def delete(self, key: str) -> None:
        """Deleting an absent key is a no-op."""
        ...

    async def get(self, key: str, start: int = 0, end: int | None = None) -> ObjectRead:
        """Open bytes `start` to `end` (exclusive; None: to the end) for streaming; the caller keeps the
        range inside the object. Raises ObjectMissing when there is no such object."""
        ...

    async def move(self, source: str, target: str) -> None:
        """Rename an object (fsck's quarantine). Raises ObjectMissing."""
        ...

    async def abandoned(self, older_than: datetime) -> list[str]:
        """Leftovers of interrupted writes last touched before `older_than` (a local store's `<key>#N`
        temp files), as keys `delete` accepts. Stores that leave none answer []."""
        ...

    def list(self, prefix: str) -> AsyncIterator[StoredObject]: ...

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers."""
        ...
