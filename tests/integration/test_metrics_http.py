"""GET /metrics through real HTTP: SPEC's names and outcomes, the token, the stale systems, no tenant labels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from adapters.memory.clock import FrozenClock
from adapters.objectstore.obstore_adapter import ObstoreObjectStore
from adapters.objectstore.urls import store_from_url
from adapters.ratelimit.limits_adapter import LimitsRateLimiter
from adapters.runtime.clock import SystemClock
from adapters.sql import SqlBackupCatalog, SqlSystemDirectory, make_engine
from app.composition import Overrides
from app.settings import Settings
from domain.errors import CatalogUnavailable
from domain.ledger import Committed
from domain.model import Backup, Limits
from tests.integration.live import client, live_server, provision, raw_request, run, settings_for, wait_until
from tests.unit.fakes import pgp

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


def scrape(server: str, token: str | None = None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx.get(server + "/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def outcomes(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[str, float]:
    return {
        dict(labels)["outcome"]: value
        for (name, labels), value in samples.items()
        if name == "backup_collect_uploads_total"
    }


def dependency_errors(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[str, float]:
    return {
        dict(labels)["dependency"]: value
        for (name, labels), value in samples.items()
        if name == "backup_collect_dependency_errors_total"
    }


def one(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> float:
    return samples[(name, ())]


def test_every_series_exists_at_zero_with_the_process_collectors(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with live_server(settings) as server:
        samples = scrape(server)
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


def test_upload_outcomes_bytes_and_duration_are_counted_without_tenant_labels(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, rate_limit_per_minute="2", max_per_system="1", max_upload_size="10000")
    tenant = provision(settings)[0]
    body = pgp(5000)
    with live_server(settings) as server, client(server, tenant) as http:
        assert http.post(URL, content=body, headers={"X-Filename": "secret-name.tar.gz"}).status_code == 201
        assert http.post(URL, content=b"plain text, not OpenPGP").status_code == 400
        assert http.post(URL, content=pgp(20_000)).status_code == 413
        assert http.post(URL, content=pgp(100)).status_code == 429
        assert httpx.post(server + URL, content=body, auth=(tenant.key, "wrong")).status_code == 401
        text = httpx.get(server + "/metrics").text
        parsed = scrape(server)
    assert tenant.key not in text
    assert tenant.org_id not in text
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


def test_a_quota_refusal_is_its_own_outcome(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    tenant = provision(settings, quota=1000)[0]
    with live_server(settings) as server, client(server, tenant) as http:
        assert http.post(URL, content=pgp(2000)).status_code == 413
        samples = scrape(server)
    assert outcomes(samples)["quota"] == 1
    assert outcomes(samples)["too_large"] == 0


def test_a_client_gone_mid_body_is_aborted(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    tenant = provision(settings)[0]
    head = (
        f"POST {URL} HTTP/1.1\r\nHost: t\r\nAuthorization: " + tenant.basic + "\r\nContent-Length: 10000000\r\n\r\n"
    ).encode()
    with live_server(settings) as server:
        raw_request(server, head, [pgp(2 * 1024 * 1024)], close_early=True)
        wait_until(lambda: outcomes(scrape(server))["aborted"] == 1)
        assert one(scrape(server), "backup_collect_uploads_in_flight") == 0


class BrokenStore(ObstoreObjectStore):
    """The real local store, whose every write fails as a full disk would."""

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        async def failing() -> AsyncIterator[bytes]:
            async for _ in chunks:
                raise OSError("injected: no space left on device")
            yield b""

        return await super().put(key, failing())


class CommitFails(SqlBackupCatalog):
    async def commit_upload(self, _backup: Backup, _limits: Limits, _now: datetime) -> Committed:
        raise CatalogUnavailable("injected: connection reset during commit")


def test_dependency_failures_are_unavailable_and_counted_by_dependency(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    tenant = provision(settings)[0]
    engine = make_engine(settings.database_url)
    overrides = Overrides(directory=SqlSystemDirectory(engine), catalog=CommitFails(engine), engine=engine)
    with live_server(settings, overrides) as server, client(server, tenant) as http:
        assert http.post(URL, content=pgp(1000)).status_code == 503
        samples = scrape(server)
    assert outcomes(samples)["unavailable"] == 1
    assert dependency_errors(samples) == {"database": 1, "object_store": 0, "rate_limit": 0}

    broken = Overrides(objects=BrokenStore(store_from_url(settings.storage_url)))
    with live_server(settings, broken) as server, client(server, tenant) as http:
        assert http.post(URL, content=pgp(1000)).status_code == 503
        samples = scrape(server)
    assert outcomes(samples)["unavailable"] == 1
    assert dependency_errors(samples)["object_store"] == 1


def test_a_rate_limit_storage_that_fails_open_is_counted(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    tenant = provision(settings)[0]
    # Nothing listens on port 9: every acquire fails, and the upload goes ahead unlimited.
    overrides = Overrides(limiter=LimitsRateLimiter("redis://127.0.0.1:9/0", 6, 60, clock=SystemClock()))
    with live_server(settings, overrides) as server, client(server, tenant) as http:
        assert http.post(URL, content=pgp(1000)).status_code == 201
        samples = scrape(server)
    assert dependency_errors(samples)["rate_limit"] == 1
    assert outcomes(samples)["stored"] == 1


def test_stale_systems_are_those_silent_past_stale_after_or_never_heard_from(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, stale_after="36h")
    fresh, silent, _never = provision(settings, systems=3)
    with live_server(settings) as server:
        for tenant in (fresh, silent):
            with client(server, tenant) as http:
                assert http.post(URL, content=pgp(1000)).status_code == 201
        assert one(scrape(server), "backup_collect_stale_systems") == 1
    # Two days on, the clock says: only `fresh` uploads again.
    later = FrozenClock(_now_plus(settings, timedelta(days=2)))
    with live_server(settings, Overrides(clock=later)) as server, client(server, fresh) as http:
        assert http.post(URL, content=pgp(1000)).status_code == 201
        assert one(scrape(server), "backup_collect_stale_systems") == 2


def _now_plus(settings: Settings, delta: timedelta) -> Any:
    async def now(container: Any) -> Any:
        return container.clock.now() + delta

    return run(settings, now)


def test_the_metrics_token_is_a_bearer_token(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, metrics_token="scrape-secret-0123456789abcdef0123456789")
    with live_server(settings) as server:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic c2NyYXBlLXNlY3JldA=="}):
            refused = httpx.get(server + "/metrics", headers=headers)
            assert refused.status_code == 401
            assert refused.json() == {"code": 401, "message": "invalid metrics token", "data": {}}
            assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert scrape(server, "scrape-secret-0123456789abcdef0123456789")


def test_duplicates_replays_and_prunes_are_counted(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, max_per_system="1")
    tenant = provision(settings)[0]
    first, second = pgp(1000), pgp(2000)
    with live_server(settings) as server, client(server, tenant) as http:
        assert http.post(URL, content=first).status_code == 201
        assert http.post(URL, content=first).status_code == 200  # the same body: a duplicate
        key = {"Idempotency-Key": '"8e03978e-40d5-43e8-bc93-6894a57f9324"'}
        assert http.post(URL, content=second, headers=key).status_code == 201  # prunes `first`
        replayed = http.post(URL, content=second, headers=key)
        assert (replayed.status_code, replayed.headers["Idempotent-Replayed"]) == (201, "true")
        samples = scrape(server)
    assert outcomes(samples) == dict.fromkeys(OUTCOMES, 0) | {"stored": 2, "duplicate": 1, "replayed": 1}
    assert one(samples, "backup_collect_pruned_backups_total") == 1
    assert one(samples, "backup_collect_upload_bytes_total") == 3000
    assert one(samples, "backup_collect_upload_duration_seconds_count") == 2
