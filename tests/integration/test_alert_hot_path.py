"""What the alerts cost an upload, counted in SQL statements on the embedded default (SQLite): a stored
upload issues no statement for schedules, states, refusals, webhooks or reports (its one event log insert
is the event log's); a refused one pays one UPDATE and one INSERT, on the refusal path only."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import event

from adapters.sql.writer import writer_of
from app.asgi import app_for
from app.composition import Overrides, build
from tests.integration.live import provision, settings_for
from tests.unit.fakes import pgp

ALERT_TABLES = ("refusals", "webhook", "log_cursors", "notified_state", "last_error")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient[Litestar], list[str], Any]]:
    settings = settings_for(tmp_path, rate_limit_per_minute="0", rate_limit_per_hour="0", check_every="1h")
    tenant = provision(settings)[0]
    # Every worker makes its first pass at start, then sleeps an hour: what is counted below is the upload.
    hour = timedelta(hours=1)
    container = build(settings, Overrides(notify_every=hour, checkpoint_every=hour, reaper_interval=hour))
    seen: list[str] = []
    assert container.engine is not None

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(container.engine.sync_engine, "before_cursor_execute", record)
    # An upload's write transactions run on SQLite's writer thread, on a connection of its own.
    writer = writer_of(container.engine)
    assert writer is not None
    event.listen(writer.engine, "before_cursor_execute", record)
    with TestClient(app_for(container)) as http:
        time.sleep(1)
        yield http, seen, tenant


def _writes(statements: list[str]) -> list[str]:
    return [s for s in statements if re.match(r"(INSERT|UPDATE|DELETE|WITH)\b", s)]


def test_a_stored_upload_pays_no_statement_for_the_alerts(served: tuple[TestClient[Litestar], list[str], Any]) -> None:
    http, seen, tenant = served
    http.post("/api/systems/backups", content=pgp(1000), auth=tenant.auth, headers={"X-Filename": "a.gpg"})
    seen.clear()
    answer = http.post("/api/systems/backups", content=pgp(1001), auth=tenant.auth, headers={"X-Filename": "b.gpg"})
    assert answer.status_code == 201
    upload = list(seen)
    assert not [s for s in upload if any(t in s for t in ALERT_TABLES)], upload
    assert len([s for s in _writes(upload) if "event_log" in s]) == 1


def test_a_refused_upload_records_its_refusal_in_two_statements(
    served: tuple[TestClient[Litestar], list[str], Any],
) -> None:
    http, seen, tenant = served
    seen.clear()
    answer = http.post("/api/systems/backups", content=b"plain text" * 30, auth=tenant.auth)
    assert answer.status_code == 400
    alerts = [s for s in _writes(seen) if any(t in s for t in ALERT_TABLES)]
    assert [s.split(" ")[0] + " " + s.split(" ")[2 if s.startswith("INSERT") else 1] for s in alerts] == [
        "UPDATE systems",
        "INSERT refusals",
    ]
