"""Quotas and retention stay exact when uploads race, on SQLite and on PostgreSQL, through real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.objectstore.obstore_adapter import ObstoreObjectStore
from adapters.objectstore.urls import store_from_url
from adapters.sql import SqlBackupCatalog, SqlSystemDirectory, make_engine
from adapters.sql.maintenance import SqlMaintenanceCatalog
from app.composition import Overrides
from app.settings import Settings
from domain.errors import CatalogUnavailable
from domain.ledger import Committed
from domain.maintenance import usage_drift
from domain.model import Backup, BackupState, Limits
from tests.integration.live import Tenant, live_server, object_files, provision, settings_for
from tests.unit.fakes import pgp

URL = "/api/systems/backups"
SIZE = 10_000


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    env = {"rate_limit_per_minute": "0", "rate_limit_per_hour": "0"}
    if request.param == "postgresql":
        env["database_url"] = request.getfixturevalue("postgres_url")
    return settings_for(tmp_path, **env)


def ledger(settings: Settings) -> tuple[list[Backup], dict[str, int]]:
    async def read() -> tuple[list[Backup], dict[str, int]]:
        engine = make_engine(settings.database_url)
        try:
            maintenance = SqlMaintenanceCatalog(engine)
            return await maintenance.all_backups(), await maintenance.recorded_usage()
        finally:
            await engine.dispose()

    return asyncio.run(read())


def upload_all(server: str, tenants: list[Tenant], size: int = SIZE) -> list[httpx.Response]:
    def one(tenant: Tenant) -> httpx.Response:
        return httpx.post(server + URL, content=pgp(size), auth=tenant.auth, timeout=60)

    with ThreadPoolExecutor(max_workers=len(tenants)) as pool:
        return list(pool.map(one, tenants))


def mine(rows: list[Backup], org_id: str) -> list[Backup]:
    return [row for row in rows if row.org_id == org_id]


def test_twenty_systems_racing_for_ten_slots_of_quota_never_exceed_it(settings: Settings) -> None:
    tenants = provision(settings, quota=10 * SIZE, systems=20)
    org_id = tenants[0].org_id
    with live_server(settings) as server:
        answers = upload_all(server, tenants)
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 413}
    created = statuses.count(201)
    assert created == 10
    for refused in (a for a in answers if a.status_code == 413):
        assert refused.json()["data"]["errors"][0]["key"] == "org_quota"
    rows, usage = ledger(settings)
    ours = mine(rows, org_id)
    assert len(ours) == created
    assert all(row.state is BackupState.STORED for row in ours)
    assert len(object_files(settings)) == created
    assert usage[org_id] == created * SIZE <= 10 * SIZE
    assert usage_drift(ours, {org_id: usage[org_id]}) == []


@pytest.fixture
def three_slots(tmp_path: Path, settings: Settings) -> Settings:
    """The same database, with room for three backups per system, and all eight of one system's racing
    uploads let in at once (SPEC's default lets two in flight: the others would get 429)."""
    return settings_for(
        tmp_path,
        database_url=settings.database_url,
        max_per_system="3",
        rate_limit_per_minute="0",
        rate_limit_per_hour="0",
        max_uploads_per_system="8",
    )


def test_eight_racing_uploads_of_one_system_keep_exactly_the_three_newest(three_slots: Settings) -> None:
    settings = three_slots
    tenant = provision(settings)[0]
    with live_server(settings) as server:
        answers = upload_all(server, [tenant] * 8)
    assert [a.status_code for a in answers] == [201] * 8
    ids: list[Any] = sorted(a.json()["data"]["id"] for a in answers)
    rows, usage = ledger(settings)
    ours = mine(rows, tenant.org_id)
    assert sorted(row.id for row in ours) == ids[-3:]
    assert sorted(p.name for p in object_files(settings)) == ids[-3:]
    assert usage[tenant.org_id] == 3 * SIZE


def test_uploads_racing_deletes_and_retention_keep_every_invariant(three_slots: Settings) -> None:
    settings = three_slots
    tenant = provision(settings)[0]
    with live_server(settings) as server, httpx.Client(base_url=server, auth=tenant.auth, timeout=60) as http:
        first = [http.post(URL, content=pgp(SIZE)).json()["data"]["id"] for _ in range(3)]

        def act(n: int) -> httpx.Response:
            if n % 3 == 0:
                return httpx.delete(f"{server}{URL}/{first[n // 3]}", auth=tenant.auth, timeout=60)
            return httpx.post(server + URL, content=pgp(SIZE), auth=tenant.auth, timeout=60)

        with ThreadPoolExecutor(max_workers=9) as pool:
            answers = list(pool.map(act, range(9)))
        listed = http.get(URL).json()["data"]
    deletes = [a.status_code for n, a in enumerate(answers) if n % 3 == 0]
    uploads = [a for n, a in enumerate(answers) if n % 3 != 0]
    assert set(deletes) <= {200, 404}
    assert [a.status_code for a in uploads] == [201] * 6
    newest = sorted(a.json()["data"]["id"] for a in uploads)[-3:]
    rows, usage = ledger(settings)
    ours = mine(rows, tenant.org_id)
    assert sorted(r.id for r in ours) == newest
    assert all(r.state is BackupState.STORED for r in ours)
    assert sorted(p.name for p in object_files(settings)) == newest
    assert usage_drift(ours, {tenant.org_id: usage[tenant.org_id]}) == []
    assert listed["usage"]["count"] == 3
    assert [b["id"] for b in listed["backups"]] == newest[::-1]


class BreakingStore(ObstoreObjectStore):
    """The real local store, whose writes fail after `fail_after` bytes, as a full disk would."""

    def __init__(self, settings: Settings, fail_after: int) -> None:
        super().__init__(store_from_url(settings.storage_url))
        self.fail_after = fail_after

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        async def breaking() -> AsyncIterator[bytes]:
            sent = 0
            async for chunk in chunks:
                sent += len(chunk)
                if sent > self.fail_after:
                    raise OSError("injected: no space left on device")
                yield chunk

        return await super().put(key, breaking())


class CommitFails(SqlBackupCatalog):
    async def commit_upload(self, _backup: Backup, _limits: Limits, _now: datetime) -> Committed:
        raise CatalogUnavailable("injected: connection reset during commit")


@pytest.mark.parametrize("fault", ["store fails mid-stream", "database fails at commit"])
def test_a_fault_after_streaming_began_is_503_and_leaves_nothing(settings: Settings, fault: str) -> None:
    tenant = provision(settings)[0]
    engine = make_engine(settings.database_url)
    if fault == "store fails mid-stream":
        overrides = Overrides(objects=BreakingStore(settings, fail_after=5 * 1024 * 1024))
    else:
        overrides = Overrides(directory=SqlSystemDirectory(engine), catalog=CommitFails(engine), engine=engine)
    with live_server(settings, overrides) as server:
        answer = httpx.post(server + URL, content=pgp(12 * 1024 * 1024), auth=tenant.auth, timeout=60)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
    rows, usage = ledger(settings)
    assert mine(rows, tenant.org_id) == []
    assert usage[tenant.org_id] == 0
    assert object_files(settings) == []
