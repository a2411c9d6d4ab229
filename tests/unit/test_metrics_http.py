"""GET /metrics in process (Litestar's test client on a `World`): SPEC's names and outcomes, the token, the
stale systems, no tenant labels. What needs a socket (a client hanging up mid-body) or a real Redis client
(the rate limiter failing open) stays in tests/integration/test_metrics_http.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from litestar import Litestar
from litestar.testing import AsyncTestClient

from adapters.memory.catalog import InMemoryBackupCatalog
from adapters.objectstore.obstore_adapter import ObstoreObjectStore
from domain.errors import CatalogUnavailable
from domain.ledger import Committed
from domain.model import Backup, Limits, NewSystem
from tests.unit.fakes import World, pgp
from tests.unit.http_answers import Samples, dependency_errors, one, outcomes, samples_of

URL = "/api/systems/backups"
OUTCOMES = {
    "stored",
    "duplicate",
    "replayed",
    "unauthorized",
    "too_large",
    "rate_limited",
    "quota",
    "invalid",
    "unavailable",
    "aborted",
}
Client = AsyncTestClient[Litestar]


async def scrape(http: Client, token: str | None = None) -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return samples_of(await http.get("/metrics", headers=headers))


async def post(http: Client, system: NewSystem, body: bytes, **headers: str) -> int:
    answer = await http.post(URL, content=body, auth=(system.system_key, system.system_secret), headers=headers)
    return answer.status_code


async def test_every_series_exists_at_zero_with_the_process_collectors() -> None:
    async with World().async_client() as http:
        samples = await scrape(http)
    assert outcomes(samples) == dict.fromkeys(OUTCOMES, 0)
    assert dependency_errors(samples) == {"database": 0, "object_store": 0, "rate_limit": 0}
    for name in [
        "backup_collect_upload_bytes_total",
        "backup_collect_pruned_backups_total",
        "backup_collect_uploads_in_flight",
        "backup_collect_stale_systems",
        "backup_collect_upload_duration_seconds_count",
    ]:
        assert one(samples, name) == 0
    names = {name for name, _ in samples}
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes", "python_info"} <= names


async def test_upload_outcomes_bytes_and_duration_are_counted_without_tenant_labels() -> None:
    caps = Limits(max_upload_size=10_000, max_per_system=1, max_size_per_system=10_000, max_size_per_org=0)
    world = World(limits=caps, windows={60: 2, 3600: 60})
    (system,) = await world.tenant()
    body = pgp(5000)
    async with world.async_client() as http:
        assert await post(http, system, body, **{"X-Filename": "secret-name.tar.gz"}) == 201
        assert await post(http, system, b"plain text, not OpenPGP") == 400
        assert await post(http, system, pgp(20_000)) == 413
        assert await post(http, system, pgp(100)) == 429
        wrong = await http.post(URL, content=body, auth=(system.system_key, "wrong"))
        assert wrong.status_code == 401
        text = (await http.get("/metrics")).text
        parsed = await scrape(http)
    assert system.system_key not in text
    assert system.org_id not in text
    assert "secret-name" not in text
    assert outcomes(parsed) == dict.fromkeys(OUTCOMES, 0) | {
        "stored": 1,
        "invalid": 1,
        "too_large": 1,
        "rate_limited": 1,
        "unauthorized": 1,
    }
    assert one(parsed, "backup_collect_upload_bytes_total") == 5000
    assert one(parsed, "backup_collect_upload_duration_seconds_count") == 1
    assert one(parsed, "backup_collect_upload_duration_seconds_sum") > 0


async def test_a_quota_refusal_is_its_own_outcome() -> None:
    world = World()
    (system,) = await world.tenant(quota=1000)
    async with world.async_client() as http:
        assert await post(http, system, pgp(2000)) == 413
        samples = await scrape(http)
    assert outcomes(samples)["quota"] == 1
    assert outcomes(samples)["too_large"] == 0


class CommitFails(InMemoryBackupCatalog):
    async def commit_upload(self, _backup: Backup, _limits: Limits, _now: datetime) -> Committed:
        raise CatalogUnavailable("injected: connection reset during commit")


class BrokenStore(ObstoreObjectStore):
    """The memory store, whose every write fails as a full disk would."""

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        async def failing() -> AsyncIterator[bytes]:
            async for _ in chunks:
                raise OSError("injected: no space left on device")
            yield b""

        return await super().put(key, failing())


async def test_a_database_failure_is_unavailable_and_counted_as_the_database() -> None:
    world = World(catalog_class=CommitFails)
    (system,) = await world.tenant()
    async with world.async_client() as http:
        assert await post(http, system, pgp(1000)) == 503
        samples = await scrape(http)
    assert outcomes(samples)["unavailable"] == 1
    assert dependency_errors(samples) == {"database": 1, "object_store": 0, "rate_limit": 0}


async def test_an_object_store_failure_is_unavailable_and_counted_as_the_object_store() -> None:
    world = World(store_class=BrokenStore)
    (system,) = await world.tenant()
    async with world.async_client() as http:
        assert await post(http, system, pgp(1000)) == 503
        samples = await scrape(http)
    assert outcomes(samples)["unavailable"] == 1
    assert dependency_errors(samples) == {"database": 0, "object_store": 1, "rate_limit": 0}


async def test_stale_systems_are_the_down_ones_under_the_deprecated_stale_after() -> None:
    world = World(env={"BACKUP_STALE_AFTER": "36h"})
    fresh, silent, _never = await world.tenant(systems=3)
    async with world.async_client() as http:
        for system in (fresh, silent):
            assert await post(http, system, pgp(1000)) == 201
        assert one(await scrape(http), "backup_collect_stale_systems") == 0  # `never` is `new` for 36 h
        world.clock.advance(2 * 24 * 3600)  # two days on: only `fresh` uploads again
        assert await post(http, fresh, pgp(1000)) == 201
        assert one(await scrape(http), "backup_collect_stale_systems") == 2


async def test_the_metrics_token_is_a_bearer_token() -> None:
    async with World(env={"BACKUP_METRICS_TOKEN": "scrape-secret-0123456789abcdef0123456789"}).async_client() as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic c2NyYXBlLXNlY3JldA=="}):
            refused = await http.get("/metrics", headers=headers)
            assert refused.status_code == 401
            assert refused.json() == {"code": 401, "message": "invalid metrics token", "data": {}}
            assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert await scrape(http, "scrape-secret-0123456789abcdef0123456789")


async def test_duplicates_replays_and_prunes_are_counted() -> None:
    caps = Limits(max_upload_size=10_000, max_per_system=1, max_size_per_system=10_000, max_size_per_org=0)
    world = World(limits=caps)
    (system,) = await world.tenant()
    first, second = pgp(1000), pgp(2000)
    key = {"Idempotency-Key": '"8e03978e-40d5-43e8-bc93-6894a57f9324"'}
    async with world.async_client() as http:
        assert await post(http, system, first) == 201
        assert await post(http, system, first) == 200  # the same body: a duplicate
        assert await post(http, system, second, **key) == 201  # prunes `first`
        replayed = await http.post(URL, content=second, auth=(system.system_key, system.system_secret), headers=key)
        assert (replayed.status_code, replayed.headers["Idempotent-Replayed"]) == (201, "true")
        samples = await scrape(http)
    assert outcomes(samples) == dict.fromkeys(OUTCOMES, 0) | {"stored": 2, "duplicate": 1, "replayed": 1}
    assert one(samples, "backup_collect_pruned_backups_total") == 1
    assert one(samples, "backup_collect_upload_bytes_total") == 3000
    assert one(samples, "backup_collect_upload_duration_seconds_count") == 2
