"""Line 5: small uploads per second on SQLite and PostgreSQL against a bare Litestar handler."""

from __future__ import annotations

from collections.abc import Sequence

from bench.body import make_block
from bench.client import Credentials, small_uploads
from bench.report import Row, median
from bench.server import Process

SMALL_BODY = 4096
CONNECTIONS = 8


def uploads_per_second(server: Process, systems: Sequence[Credentials], seconds: float, runs: int) -> float:
    body = make_block(SMALL_BODY)
    small_uploads(server.port, list(systems), body, CONNECTIONS, min(1.0, seconds))  # warm-up
    return median([small_uploads(server.port, list(systems), body, CONNECTIONS, seconds) for _ in range(runs)])


def small_rows(sqlite: float, postgres: float | None, bare: float, systems: int) -> list[Row]:
    rows = [
        Row(
            f"5. 4 KiB uploads/s, SQLite, {systems} systems",
            f"{sqlite:.0f}/s",
            f"bare Litestar {bare:.0f}/s",
            f"{sqlite / bare:.2f}x",
            "(printed)",
            None,
        ),
    ]
    if postgres is None:
        rows.append(Row("5. 4 KiB uploads/s, PostgreSQL", "not run", "-", "-", "(printed)", None))
    else:
        rows.append(
            Row(
                f"5. 4 KiB uploads/s, PostgreSQL, {systems} systems",
                f"{postgres:.0f}/s",
                f"bare Litestar {bare:.0f}/s",
                f"{postgres / bare:.2f}x",
                "(printed)",
                None,
            )
        )
    return rows
