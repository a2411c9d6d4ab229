"""fsck finds each kind of hand-made damage to a store and its ledger, and repairs what is safe."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.memory.clock import FrozenClock
from adapters.objectstore.obstore_adapter import ObstoreObjectStore
from adapters.objectstore.urls import store_from_url
from adapters.sql import make_engine
from adapters.sql.maintenance import SqlMaintenanceCatalog
from app.cli import main
from app.settings import Settings
from domain.fsck import Fsck, FsckReport
from tests.integration.live import (
    Tenant,
    client,
    live_server,
    object_files,
    provision,
    rows_by_state,
    settings_for,
    wait_until,
)
from tests.unit.fakes import pgp

URL = "/api/systems/backups"


def fsck(
    settings: Settings, *, repair: bool = False, verify: bool = False, later: timedelta = timedelta(0)
) -> FsckReport:
    async def main() -> FsckReport:
        engine = make_engine(settings.database_url)
        try:
            check = Fsck(
                catalog=SqlMaintenanceCatalog(engine),
                objects=ObstoreObjectStore(store_from_url(settings.storage_url)),
                clock=FrozenClock(datetime.now(UTC) + later),
            )
            return await check(repair=repair, verify_checksums=verify)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def kinds(problems: Any) -> list[tuple[str, str]]:
    return sorted((p.kind, p.key) for p in problems)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path, rate_limit_per_minute="0", rate_limit_per_hour="0")


@pytest.fixture
def uploaded(settings: Settings) -> tuple[Tenant, list[str]]:
    tenant = provision(settings)[0]
    with live_server(settings) as server, client(server, tenant) as http:
        ids = [http.post(URL, content=pgp(1000 + n)).json()["data"]["id"] for n in range(5)]
    return tenant, ids


def test_a_healthy_store_is_ok(settings: Settings, uploaded: tuple[Tenant, list[str]]) -> None:
    report = fsck(settings, verify=True)
    assert report.ok
    assert report.problems == []


def test_each_kind_of_tampering_is_found_then_repaired(settings: Settings, uploaded: tuple[Tenant, list[str]]) -> None:
    tenant, ids = uploaded
    root = Path(settings.storage_url.removeprefix("file://"))
    prefix = f"{tenant.org_id}/{tenant.key}"
    keys = [f"{prefix}/{backup_id}" for backup_id in ids]
    (root / keys[0]).unlink()  # object deleted
    (root / prefix / "intruder.bin").write_bytes(b"not ours")  # object added
    (root / keys[1]).write_bytes(b"\x85" + b"0" * 50)  # bytes changed, size too
    same_size = (root / keys[2]).read_bytes()
    (root / keys[2]).write_bytes(same_size[:-1] + bytes([same_size[-1] ^ 1]))  # bytes changed, same size
    with closing(sqlite3.connect(settings.database_url.removeprefix("sqlite+aiosqlite:///"))) as conn:
        conn.execute("UPDATE organizations SET used_bytes = used_bytes + 7")  # row edited
        conn.commit()
    old = time.time() - 7200
    temp = root / prefix / "crashed.bin#3"
    temp.write_bytes(b"partial")
    os.utime(temp, (old, old))
    os.utime(root / prefix / "intruder.bin", (old, old))

    found = fsck(settings, verify=True)
    assert not found.ok
    assert kinds(found.problems) == [
        ("checksum_mismatch", keys[2]),
        ("missing_object", keys[0]),
        ("orphan_object", f"{prefix}/intruder.bin"),
        ("size_mismatch", keys[1]),
        ("stale_upload", f"{prefix}/crashed.bin#3"),
        ("usage_drift", tenant.org_id),
    ]
    assert found.repaired == []
    assert not fsck(settings).ok  # without --verify-checksums the checksum is not read, the rest still is

    repaired = fsck(settings, repair=True, verify=True)
    assert repaired.ok
    assert kinds(repaired.repaired) == kinds(found.problems)
    assert (root / "quarantine" / prefix / "intruder.bin").read_bytes() == b"not ours"
    assert (root / "quarantine" / keys[2]).exists()
    assert not temp.exists()

    after = fsck(settings, verify=True)
    assert after.ok
    assert after.problems == []
    with closing(sqlite3.connect(settings.database_url.removeprefix("sqlite+aiosqlite:///"))) as conn:
        (count,) = conn.execute("SELECT count(*) FROM backups").fetchone()
        (used,) = conn.execute("SELECT used_bytes FROM organizations").fetchone()
    assert count == 2
    assert used == sum(1000 + n for n in (3, 4))


def test_young_orphans_and_intents_are_left_alone(settings: Settings, uploaded: tuple[Tenant, list[str]]) -> None:
    tenant, _ = uploaded
    root = Path(settings.storage_url.removeprefix("file://"))
    (root / tenant.org_id / tenant.key / "in-flight.bin").write_bytes(b"x")
    with closing(sqlite3.connect(settings.database_url.removeprefix("sqlite+aiosqlite:///"))) as conn:
        conn.execute(
            "INSERT INTO backups (id, system_id, org_id, object_key, filename, envelope, size, sha256, mimetype,"
            " uploaded_at, state, created_at) SELECT 'intent-' || id, system_id, org_id, object_key || '.intent',"
            " filename, envelope, 0, '', mimetype, uploaded_at, 'uploading', created_at FROM backups LIMIT 1"
        )
        conn.commit()
    assert fsck(settings).ok
    later = fsck(settings, later=timedelta(hours=2))
    assert {p.kind for p in later.problems} == {"orphan_object", "stale_upload"}
    assert len(object_files(settings)) == 6


def cli_fsck(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BACKUP_DATA_DIR": str(settings.data_dir)}
    command = [sys.executable, "-m", "app.cli", "fsck", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)


def test_the_fsck_command_reports_then_repairs_with_its_exit_status(
    settings: Settings,
    uploaded: tuple[Tenant, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tenant, ids = uploaded
    root = Path(settings.storage_url.removeprefix("file://"))
    (root / tenant.org_id / tenant.key / ids[0]).unlink()

    found = cli_fsck(settings, "--json")
    assert found.returncode == 1, found.stderr
    report = json.loads(found.stdout)
    assert set(report) == {"ok", "problems", "repaired"}
    assert report["ok"] is False
    assert report["repaired"] == []
    assert [(p["kind"], p["key"]) for p in report["problems"]] == [
        ("missing_object", f"{tenant.org_id}/{tenant.key}/{ids[0]}")
    ]
    assert set(report["problems"][0]) == {"kind", "key", "detail"}

    # The process's exit status is main()'s answer: the other two runs go through main() in this process.
    monkeypatch.setenv("BACKUP_DATA_DIR", str(settings.data_dir))
    capsys.readouterr()
    assert main(["fsck", "--repair", "--verify-checksums", "--json"]) == 0
    repaired = json.loads(capsys.readouterr().out)
    assert repaired["ok"] is True
    assert [p["kind"] for p in repaired["repaired"]] == ["missing_object"]

    assert main(["fsck"]) == 0
    assert "ok" in capsys.readouterr().out


def test_the_server_reaps_what_a_crash_left_behind(settings: Settings, uploaded: tuple[Tenant, list[str]]) -> None:
    tenant, ids = uploaded
    root = Path(settings.storage_url.removeprefix("file://"))
    crashed_key = f"{tenant.org_id}/{tenant.key}/{ids[0][:-4]}-crashed.bin"
    (root / crashed_key).write_bytes(b"\x85half of a backup")
    with closing(sqlite3.connect(settings.database_url.removeprefix("sqlite+aiosqlite:///"))) as conn:
        conn.execute(
            "INSERT INTO backups (id, system_id, org_id, object_key, filename, envelope, size, sha256, mimetype,"
            " uploaded_at, state, created_at) SELECT 'crashed-' || id, system_id, org_id, ?, filename, envelope,"
            " 0, '', mimetype, datetime('now', '-2 hours'), 'uploading', created_at FROM backups LIMIT 1",
            (crashed_key,),
        )
        # As a prune whose object erase failed leaves it: marked deleting, no longer counted.
        conn.execute("UPDATE backups SET state = 'deleting' WHERE id = ?", (ids[1],))
        conn.execute(
            "UPDATE organizations SET used_bytes = used_bytes - (SELECT size FROM backups WHERE id = ?)", (ids[1],)
        )
        conn.commit()
    with live_server(settings):
        wait_until(lambda: rows_by_state(settings) == {"stored": 4})
    assert not (root / crashed_key).exists()
    assert not (root / tenant.org_id / tenant.key / ids[1]).exists()
    assert fsck(settings).ok
