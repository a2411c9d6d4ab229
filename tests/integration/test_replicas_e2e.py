"""Two `backup-collect serve` processes on one PostgreSQL, one S3 bucket and one Redis.

The replicas reach PostgreSQL and S3 through TCP proxies, so the last test can take each away.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from adapters.sql import make_engine
from adapters.sql.migrate import MIGRATIONS
from app.cli import main
from app.settings import Settings
from tests.integration.live import provision, start_serve
from tests.integration.services import RedisService, S3Service, TcpProxy
from tests.unit.fakes import pgp

URL = "/api/systems/backups"


@dataclass
class Replicas:
    urls: list[str]
    env: dict[str, str]
    database_url: str
    prefix: str
    postgres: TcpProxy
    s3: TcpProxy


@pytest.fixture(scope="module")
def replicas(
    postgres_url: str, s3: S3Service, redis: RedisService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replicas]:
    db = make_url(postgres_url)
    s3_endpoint = urlsplit(s3.endpoint)
    with (
        TcpProxy(db.host or "127.0.0.1", db.port or 5432) as pg_proxy,
        TcpProxy(s3_endpoint.hostname or "127.0.0.1", s3_endpoint.port or 80) as s3_proxy,
    ):
        proxied_db = db.set(host="127.0.0.1", port=pg_proxy.port).render_as_string(hide_password=False)
        prefix = f"e2e-{secrets.token_hex(4)}"
        workdir = tmp_path_factory.mktemp("replicas")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKUP_", "AWS_"))}
        env |= s3.env | {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{s3_proxy.port}",
            "BACKUP_DATA_DIR": str(workdir),
            "BACKUP_DATABASE_URL": proxied_db,
            "BACKUP_STORAGE_URL": s3.url(prefix),
            "BACKUP_RATE_LIMIT_STORAGE_URL": redis.url,
        }
        # Started together: both migrate at once, which the advisory lock serialises.
        servers = [start_serve(env, workdir / f"replica-{n}.log") for n in range(2)]
        try:
            for server in servers:
                server.wait_ready()
            yield Replicas([s.url for s in servers], env, proxied_db, prefix, pg_proxy, s3_proxy)
        finally:
            for server in servers:
                server.stop()


def tenant(replicas: Replicas, quota: int | None = None, systems: int = 1) -> tuple[str, list[tuple[str, str]]]:
    """An org and its systems, created as `backup-collect org/system create` would (in process: faster)."""
    made = provision(Settings.from_env(replicas.env), quota, systems)
    return made[0].org_id, [t.auth for t in made]


def query(replicas: Replicas, sql: str, **params: Any) -> Any:
    async def run() -> Any:
        engine = make_engine(replicas.database_url)
        try:
            async with engine.connect() as conn:
                return (await conn.execute(text(sql), params)).all()
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_the_rate_limit_holds_across_replicas(replicas: Replicas) -> None:
    _, [auth] = tenant(replicas)
    answers = [httpx.post(replicas.urls[n % 2] + URL, content=pgp(200), auth=auth, timeout=30) for n in range(6)]
    assert [a.status_code for a in answers] == [201] * 6
    for url in replicas.urls:
        refused = httpx.post(url + URL, content=pgp(200), auth=auth, timeout=30)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["data"]["retry_after_seconds"] == int(refused.headers["Retry-After"])


def test_a_backup_stored_through_one_replica_is_the_same_bytes_through_the_other(
    replicas: Replicas, s3: S3Service
) -> None:
    org_id, [auth] = tenant(replicas)
    body = pgp(5000)
    created = httpx.post(replicas.urls[0] + URL, content=body, auth=auth, timeout=30)
    assert created.status_code == 201
    backup = created.json()["data"]
    assert backup["sha256"] == hashlib.sha256(body).hexdigest()
    assert s3.object_bytes(f"{replicas.prefix}/{org_id}/{auth[0]}/{backup['id']}") == body
    listed = httpx.get(replicas.urls[1] + URL, auth=auth, timeout=30).json()["data"]["backups"]
    assert [b["id"] for b in listed] == [backup["id"]]
    paths = httpx.get(replicas.urls[1] + "/api/schema/openapi.json", timeout=30).json()["paths"]
    if not any(p.startswith(f"{URL}/{{") and "get" in ops for p, ops in paths.items()):
        return  # downloads are not served yet; the object's bytes were compared above
    downloaded = httpx.get(f"{replicas.urls[1]}{URL}/{backup['id']}", auth=auth, timeout=30)
    assert downloaded.status_code == 200
    assert downloaded.content == body


def test_concurrent_uploads_through_both_replicas_never_exceed_the_org_quota(replicas: Replicas, s3: S3Service) -> None:
    # Six systems, two uploads each: within SPEC's default of two in flight per system.
    org_id, systems = tenant(replicas, quota=5000, systems=6)
    jobs = [(replicas.urls[n % 2], systems[n % 6]) for n in range(12)]

    def upload(job: tuple[str, tuple[str, str]]) -> int:
        url, auth = job
        return httpx.post(url + URL, content=pgp(1000), auth=auth, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(upload, jobs))
    assert sorted(statuses) == [201] * 5 + [413] * 7
    [(used, stored_bytes, rows)] = query(
        replicas,
        "SELECT o.used_bytes, COALESCE(SUM(b.size), 0), COUNT(b.id) FROM organizations o "
        "LEFT JOIN backups b ON b.org_id = o.id WHERE o.id = :org GROUP BY o.used_bytes",
        org=org_id,
    )
    assert (used, stored_bytes, rows) == (5000, 5000, 5)
    keys = [k for k in _keys(s3, f"{replicas.prefix}/{org_id}/")]
    assert len(keys) == 5
    assert s3.pending_multipart_uploads(f"{replicas.prefix}/{org_id}/") == []


def _keys(s3: S3Service, prefix: str) -> list[str]:
    answer = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=prefix)
    return [item["Key"] for item in answer.get("Contents", [])]


def _ready(url: str) -> httpx.Response:
    return httpx.get(url + "/api/ready", timeout=60)


def test_ready_and_uploads_answer_503_while_the_store_or_the_database_is_unreachable(replicas: Replicas) -> None:
    _, [auth] = tenant(replicas)
    assert [_ready(url).status_code for url in replicas.urls] == [200, 200]
    replicas.s3.cut()
    try:
        for url in replicas.urls:
            answer = _ready(url)
            assert answer.status_code == 503
            assert answer.json()["data"] == {"database": "ok", "object_store": "error"}
            assert int(answer.headers["Retry-After"]) >= 1
        refused = httpx.post(replicas.urls[0] + URL, content=pgp(300), auth=auth, timeout=60)
        assert refused.status_code == 503
        assert int(refused.headers["Retry-After"]) >= 1
    finally:
        replicas.s3.restore()
    replicas.postgres.cut()
    try:
        for url in replicas.urls:
            answer = _ready(url)
            assert answer.status_code == 503
            assert answer.json()["data"] == {"database": "error", "object_store": "ok"}
        refused = httpx.post(replicas.urls[1] + URL, content=pgp(300), auth=auth, timeout=60)
        assert refused.status_code == 503
        assert int(refused.headers["Retry-After"]) >= 1
    finally:
        replicas.postgres.restore()
    assert [_ready(url).status_code for url in replicas.urls] == [200, 200]
    assert httpx.post(replicas.urls[1] + URL, content=pgp(300), auth=auth, timeout=60).status_code == 201


def test_migrate_on_a_running_fleet_is_a_no_op(
    replicas: Replicas, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in replicas.env.items():
        monkeypatch.setenv(name, value)
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.strip() == "schema is up to date"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    newest = ScriptDirectory.from_config(config).get_current_head()
    assert query(replicas, "SELECT version_num FROM alembic_version") == [(newest,)]
