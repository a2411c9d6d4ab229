"""Scrubbing against every real adapter: on local files and S3 (SeaweedFS) a corrupted and a deleted object
are found at the rate asked for (measured in wall time); on SQLite and PostgreSQL the verification ledger
orders, records and counts as in memory and logs `backup.verified` in the same transaction; a real server keeps
a verify period shorter than its minute-long pass interval."""

from __future__ import annotations

import hashlib
import re
import time
from datetime import timedelta
from pathlib import Path

import httpx

from adapters.memory.clock import FrozenClock
from adapters.memory.maintenance import InMemoryMaintenanceCatalog
from adapters.memory.tables import Tables
from domain.events import EventType
from domain.maintenance import MaintenanceCatalog
from domain.model import Backup, BackupState, Limits
from domain.ports import BackupCatalog, EventLog, ObjectStore, SystemDirectory
from domain.scrub import Scrubber
from tests.integration.contracts.builders import intent, new_org, new_system, now
from tests.integration.live import live_server, provision, settings_for
from tests.unit.fakes import chunks, pgp

LIMITS_SIZE = 100_000
LIMITS = Limits(max_upload_size=1000, max_per_system=5, max_size_per_system=1000, max_size_per_org=0)


async def test_corrupt_and_deleted_objects_are_found_within_the_rate(objects: ObjectStore) -> None:
    tables = Tables()
    ledger = InMemoryMaintenanceCatalog(tables)
    bodies = [pgp(LIMITS_SIZE) for _ in range(3)]
    rows = []
    for i, body in enumerate(bodies):
        key = f"org/fw/scrub-{i}-{time.time_ns()}.bin"
        await objects.put(key, chunks(body, 16_384))
        row = Backup(
            id=f"b{i}",
            system_id="s",
            org_id="org",
            object_key=key,
            filename="f",
            envelope=".gpg",
            size=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            mimetype="application/octet-stream",
            uploaded_at=now(),
            state=BackupState.STORED,
        )
        tables.backups[row.id] = row
        rows.append(row)
    await objects.put(rows[1].object_key, chunks(b"\x85" + bytes(LIMITS_SIZE - 1), 16_384))
    await objects.delete(rows[2].object_key)
    rate = 200_000  # bytes a second: 200 kB (one whole and one corrupt object) take at least a second
    scrubber = Scrubber(ledger=ledger, objects=objects, clock=FrozenClock(now()), every=timedelta(days=30), rate=rate)
    started = time.monotonic()
    done = await scrubber.everything()
    elapsed = time.monotonic() - started
    assert {f.backup.id: f.result for f in done.failures} == {"b1": "mismatch", "b2": "missing"}
    assert done.bytes_read == 2 * LIMITS_SIZE
    assert elapsed >= done.bytes_read / rate * 0.95
    assert done.bytes_read / elapsed <= rate * 1.05
    for row in rows[:2]:
        await objects.delete(row.object_key)


async def test_the_verification_ledger_orders_records_and_logs(
    directory: SystemDirectory, catalog: BackupCatalog, maintenance: MaintenanceCatalog, events: EventLog
) -> None:
    who = await new_system(directory, await new_org(directory))
    stored = []
    for _ in range(3):
        started = intent(who, 10)
        await catalog.begin_upload(started)
        stored.append((await catalog.commit_upload(started, LIMITS, now())).backup)
    when = now()
    due = await maintenance.due_for_verification(when, 10)
    assert [b.id for b in due] == [b.id for b in stored]
    await maintenance.record_verification(stored[0], "mismatch", when - timedelta(days=40))
    await maintenance.record_verification(stored[1], "ok", when)
    assert await maintenance.count_unverified(when - timedelta(days=30)) == 2
    order = await maintenance.due_for_verification(when - timedelta(days=30), 10)
    assert [b.id for b in order] == [stored[2].id, stored[0].id]
    (row,) = [b for b in await maintenance.all_backups() if b.id == stored[0].id]
    assert (row.verify_state, row.state) == ("mismatch", BackupState.STORED)
    logged = [e for e in await events.events_after(-1, 100) if e.type is EventType.BACKUP_VERIFIED]
    assert [(e.backup_id, e.detail["result"]) for e in logged] == [(stored[0].id, "mismatch"), (stored[1].id, "ok")]


def test_a_verify_period_under_a_minute_is_kept_by_a_real_server(tmp_path: Path) -> None:
    """BACKUP_VERIFY_EVERY=2s: the scrubber passes that often (not once a minute), so an object corrupted
    after its upload shows in /metrics within seconds, and the backup is kept."""
    settings = settings_for(tmp_path, verify_every="2s", rate_limit_per_minute="0", rate_limit_per_hour="0")
    (tenant,) = provision(settings)
    with live_server(settings) as server:
        answer = httpx.post(server + "/api/systems/backups", content=pgp(600), auth=tenant.auth, timeout=10)
        assert answer.status_code == 201, answer.text
        (path,) = (p for p in (tmp_path / "objects").rglob("*") if p.is_file())
        path.write_bytes(b"\x85" + b"y" * 599)
        deadline, text = time.monotonic() + 20, ""
        while time.monotonic() < deadline and "backup_collect_verify_failures_total 0.0" in (
            text := httpx.get(server + "/metrics", timeout=10).text
        ):
            time.sleep(0.2)
        listing = httpx.get(server + "/api/systems/backups", auth=tenant.auth, timeout=10).json()["data"]
    assert re.search(r"^backup_collect_verify_failures_total [1-9]", text, re.MULTILINE), text
    assert re.search(r"^backup_collect_unverified_backups 0\.0$", text, re.MULTILINE), text
    assert [b["id"] for b in listing["backups"]] == [answer.json()["data"]["id"]]
