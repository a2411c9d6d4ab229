"""The unit tests' world: the composition root's own wiring, on in-memory adapters."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from obstore.store import MemoryStore

from adapters.memory.catalog import InMemoryBackupCatalog
from adapters.memory.clock import FrozenClock
from adapters.memory.directory import InMemorySystemDirectory
from adapters.memory.maintenance import InMemoryMaintenanceCatalog
from adapters.memory.ratelimit import InMemoryRateLimiter
from adapters.memory.tables import Tables
from adapters.objectstore.obstore_adapter import ObstoreObjectStore
from app.composition import Overrides, build
from app.settings import Settings
from domain.model import Limits, SystemIdentity, Upload


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
    """The service as `build` wires it, on in-memory adapters, a frozen clock and the given caps."""

    limits: Limits = field(
        default_factory=lambda: Limits(
            max_upload_size=10_000, max_per_system=3, max_size_per_system=10_000, max_size_per_org=0
        )
    )
    windows: dict[int, int] = field(default_factory=lambda: {60: 6, 3600: 60})
    clock: FrozenClock = field(default_factory=lambda: FrozenClock(datetime(2026, 4, 12, 2, 15, tzinfo=UTC)))
    append_only: bool = False

    def __post_init__(self) -> None:
        tables = Tables()
        self.directory = InMemorySystemDirectory(tables)
        self.catalog = InMemoryBackupCatalog(tables)
        self.maintenance = InMemoryMaintenanceCatalog(tables)
        self.objects = ObstoreObjectStore(MemoryStore())
        self.limiter = InMemoryRateLimiter(self.windows, self.clock)
        settings = replace(
            Settings.from_env({}),
            max_upload_size=self.limits.max_upload_size,
            max_per_system=self.limits.max_per_system,
            max_size_per_system=self.limits.max_size_per_system,
            max_size_per_org=self.limits.max_size_per_org,
            require_openpgp=self.limits.require_openpgp,
            append_only=self.append_only,
        )
        self.services = build(
            settings,
            Overrides(
                directory=self.directory,
                catalog=self.catalog,
                maintenance=self.maintenance,
                objects=self.objects,
                limiter=self.limiter,
                clock=self.clock,
            ),
        )
        self.ingest = self.services.ingest
        self.registry = self.services.registry
        assert self.services.reaper is not None
        self.reaper = self.services.reaper

    async def system(self, quota: int | None = None) -> SystemIdentity:
        org = await self.registry.create_org("acme", quota)
        created = await self.registry.create_system(org.id)
        identity = await self.directory.authenticate(created.system_key, created.system_secret)
        assert identity is not None
        return identity

    async def object_keys(self) -> list[str]:
        return sorted([o.key async for o in self.objects.list("")])
