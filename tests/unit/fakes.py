"""Wiring of the domain onto the in-memory adapters, for unit tests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from obstore.store import MemoryStore

from adapters.memory.catalog import InMemoryBackupCatalog
from adapters.memory.clock import FrozenClock, Uuid7Factory
from adapters.memory.directory import InMemorySystemDirectory
from adapters.memory.ratelimit import InMemoryRateLimiter
from adapters.objectstore.obstore_adapter import ObstoreObjectStore
from domain.ingest import IngestBackup
from domain.model import Limits, SystemIdentity, Upload
from domain.registry import Registry


def pgp(size: int) -> bytes:
    """A body that sniffs as an OpenPGP message (old-format PKESK packet) of `size` bytes."""
    return b"\x85" + os.urandom(size - 1)


async def chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def upload(data: bytes, name: str | None = "cfg.tar.gz.gpg", declared: bool = True) -> Upload:
    return Upload(filename_header=name, declared_size=len(data) if declared else None, body=chunks(data))


@dataclass
class World:
    limits: Limits = field(
        default_factory=lambda: Limits(
            max_upload_size=10_000, max_per_system=3, max_size_per_system=10_000, max_size_per_org=0
        )
    )
    windows: dict[int, int] = field(default_factory=lambda: {60: 6, 3600: 60})
    clock: FrozenClock = field(default_factory=lambda: FrozenClock(datetime(2026, 4, 12, 2, 15, tzinfo=UTC)))

    def __post_init__(self) -> None:
        self.directory = InMemorySystemDirectory()
        self.catalog = InMemoryBackupCatalog(self.directory.tables)
        self.objects = ObstoreObjectStore(MemoryStore())
        self.limiter = InMemoryRateLimiter(self.windows, self.clock)
        self.ids = Uuid7Factory()
        self.registry = Registry(directory=self.directory, ids=self.ids)
        self.ingest = IngestBackup(
            catalog=self.catalog,
            objects=self.objects,
            limiter=self.limiter,
            clock=self.clock,
            ids=self.ids,
            limits=self.limits,
        )

    async def system(self, quota: int | None = None) -> SystemIdentity:
        org = await self.registry.create_org("acme", quota)
        created = await self.registry.create_system(org.id)
        identity = await self.directory.authenticate(created.system_key, created.system_secret)
        assert identity is not None
        return identity

    async def object_keys(self) -> list[str]:
        return sorted([o.key async for o in self.objects.list("")])

    def stored_ids(self, rows: Iterable[object]) -> list[str]:
        return sorted(getattr(r, "id") for r in rows)  # noqa: B009
