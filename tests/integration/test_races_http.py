"""Quotas and retention stay exact when uploads race, on SQLite and on PostgreSQL, through real HTTP."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.sql import make_engine
from adapters.sql.maintenance import SqlMaintenanceCatalog
from app.settings import Settings
from domain.maintenance import usage_drift
from domain.model import Backup, BackupState
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


def test_eight_racing_uploads_of_one_system_keep_exactly_the_three_newest(tmp_path: Path, settings: Settings) -> None:
    settings = settings_for(
        tmp_path,
        database_url=settings.database_url,
        max_per_system="3",
        rate_limit_per_minute="0",
        rate_limit_per_hour="0",
    )
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
