"""A PostgreSQL that accepts the connection and then stalls (queries behind a lock): a bounded 503, never a hang."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.integration.live import Tenant, live_server, provision, settings_for
from tests.unit.fakes import pgp

URL = "/api/systems/backups"
COMMAND_TIMEOUT = 2


class TableLock:
    """Holds `LOCK TABLE … ACCESS EXCLUSIVE` on `table` from a connection of its own until released:
    every other statement touching the table waits, as behind a stuck migration or a runaway job."""

    def __init__(self, url: str, table: str) -> None:
        self.url = make_url(url).set(drivername="postgresql", query={}).render_as_string(hide_password=False)
        self.table = table
        self.held = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._hold()), daemon=True)

    async def _hold(self) -> None:
        connection = await asyncpg.connect(self.url)
        try:
            async with connection.transaction():
                await connection.execute(f"LOCK TABLE {self.table} IN ACCESS EXCLUSIVE MODE")
                self.held.set()
                while not self.release.is_set():
                    await asyncio.sleep(0.05)
        finally:
            await connection.close()

    def __enter__(self) -> TableLock:
        self.thread.start()
        assert self.held.wait(10), "could not take the lock"
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self.thread.join(10)


@pytest.fixture
def site(postgres_url: str, tmp_path: Path) -> Iterator[tuple[str, str, Tenant]]:
    url = make_url(postgres_url).update_query_dict({"command_timeout": str(COMMAND_TIMEOUT)})
    database_url = url.render_as_string(hide_password=False)
    settings = settings_for(tmp_path, database_url=database_url, rate_limit_per_minute="0", rate_limit_per_hour="0")
    tenant = provision(settings)[0]
    with live_server(settings) as server:
        yield server, database_url, tenant


def test_queries_stuck_behind_a_lock_answer_503_within_seconds_and_recover(site: tuple[str, str, Tenant]) -> None:
    server, database_url, tenant = site
    with TableLock(database_url, "organizations, backups"):
        started = time.monotonic()
        stalled = httpx.post(server + URL, content=pgp(1000), auth=tenant.auth, timeout=60)
        waited = time.monotonic() - started
        assert stalled.status_code == 503
        assert stalled.headers["Retry-After"] == "30"
        assert stalled.json()["data"]["dependency"] == "database"
        assert COMMAND_TIMEOUT <= waited < COMMAND_TIMEOUT + 5
        listed = httpx.get(server + URL, auth=tenant.auth, timeout=60)
        assert listed.status_code == 503
    assert httpx.post(server + URL, content=pgp(1000), auth=tenant.auth, timeout=60).status_code == 201
