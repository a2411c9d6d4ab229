"""The unit tests' world: the composition root's own wiring, on in-memory adapters."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from litestar import Litestar
from litestar.testing import AsyncTestClient, TestClient
from obstore.store import MemoryStore

from adapters.memory.catalog import InMemoryBackupCatalog
from adapters.memory.clock import FrozenClock
from adapters.memory.directory import InMemorySystemDirectory
from adapters.memory.health import InMemorySystemHealth
from adapters.memory.maintenance import InMemoryMaintenanceCatalog
from adapters.memory.ratelimit import InMemoryRateLimiter
from adapters.memory.tables import Tables
from adapters.objectstore.obstore_adapter import ObstoreObjectStore
from adapters.runtime.logkey import Ed25519Signer
from adapters.runtime.webhook_sender import HttpxWebhookSender
from app.asgi import app_for
from app.composition import Overrides, build
from app.settings import Settings
from domain.ingest import IngestBackup, IngestResult
from domain.model import Limits, NewSystem, SystemIdentity, Upload
from domain.ports import SentAnswer, Standing


def pgp(size: int) -> bytes:
    """A body that sniffs as an OpenPGP message (old-format PKESK packet) of `size` bytes."""
    return b"\x85" + os.urandom(size - 1)


async def chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def upload(data: bytes, name: str | None = "cfg.tar.gz.gpg", declared: bool = True) -> Upload:
    return Upload(filename_header=name, declared_size=len(data) if declared else None, body=chunks(data))


@dataclass(frozen=True)
class AsUploaded:
    """The ingest use case called as the upload route calls it: with the system's standing, read afresh
    for each upload as `SystemDirectory.authenticate_upload` reads it with the identity."""

    use_case: IngestBackup

    async def __call__(self, who: SystemIdentity, body: Upload) -> IngestResult:
        catalog = self.use_case.catalog
        usage = await catalog.org_usage(who.org_id)
        stored = tuple(await catalog.stored_backups(who.system_id))
        return await self.use_case(Standing(identity=who, usage=usage, stored=stored), body)


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
    env: dict[str, str] = field(default_factory=dict)
    """Further BACKUP_* settings (tokens, BACKUP_STALE_AFTER, …) as the environment gives them; the caps,
    the rate-limit windows and append-only come from the fields above."""
    catalog_class: type[InMemoryBackupCatalog] = InMemoryBackupCatalog
    store_class: type[ObstoreObjectStore] = ObstoreObjectStore
    """Subclasses inject failures into the in-memory catalog or the memory object store."""

    def __post_init__(self) -> None:
        tables = Tables()
        self.directory = InMemorySystemDirectory(tables, self.clock)
        self.catalog = self.catalog_class(tables, self.clock)
        self.maintenance = InMemoryMaintenanceCatalog(tables)
        self.health = InMemorySystemHealth(tables)
        self.objects = self.store_class(MemoryStore())
        self.limiter = InMemoryRateLimiter(self.windows, self.clock)
        self.settings = settings = replace(
            Settings.from_env(self.env),
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
                health=self.health,
                objects=self.objects,
                limiter=self.limiter,
                clock=self.clock,
                log_signer=Ed25519Signer.generate("backup-collect.test/log"),
                webhook_sender=LoopbackOnlySender(),
            ),
        )
        self.ingest = AsUploaded(self.services.ingest)
        self.registry = self.services.registry
        assert self.services.reaper is not None
        self.reaper = self.services.reaper

    def client(self, base_url: str = "http://testserver.local") -> TestClient[Litestar]:
        """The HTTP app `serve` runs, on this world, in process: Litestar's test client, no socket."""
        return TestClient(app_for(self.services), base_url=base_url)

    def async_client(self, base_url: str = "http://testserver.local") -> AsyncTestClient[Litestar]:
        """As `client`, on the test's own event loop: the test may use the world's adapters in between."""
        return AsyncTestClient(app_for(self.services), base_url=base_url)

    async def tenant(self, quota: int | None = None, systems: int = 1) -> list[NewSystem]:
        """An organization with `systems` systems; each with the secret it authenticates with."""
        org = await self.registry.create_org("acme", quota)
        return [await self.registry.create_system(org.id) for _ in range(systems)]

    async def system(self, quota: int | None = None) -> SystemIdentity:
        org = await self.registry.create_org("acme", quota)
        created = await self.registry.create_system(org.id)
        identity = await self.directory.authenticate(created.system_key, created.system_secret)
        assert identity is not None
        return identity

    async def object_keys(self) -> list[str]:
        return sorted([o.key async for o in self.objects.list("")])


class LoopbackOnlySender:
    """The tests' webhook sender: the real one for receivers on 127.0.0.1, ::1 or localhost; any other host
    (a fuzzer's URL, a documentation example) gets no request at all, as the tests reach no other address."""

    def __init__(self) -> None:
        self._real = HttpxWebhookSender()

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SentAnswer:
        if urlsplit(url).hostname not in {"127.0.0.1", "::1", "localhost"}:
            return SentAnswer(None, "the tests send to loopback receivers only")
        return await self._real.send(url, body, headers)

    async def aclose(self) -> None:
        await self._real.aclose()
