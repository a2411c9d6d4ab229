"""The admin API's report: `report` over HTTP, JSON in the envelope or a CSV download."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from litestar import Response, get
from litestar.params import FromQuery

from adapters.http.admin.edge import ok
from adapters.http.dto import Envelope
from adapters.http.openapi import Documented, errors
from adapters.http.services import Service
from adapters.shapes import report_csv
from domain.durations import parse_duration
from domain.errors import InvalidInput
from domain.report import Report, Reports


def window(since: str | None) -> timedelta:
    """`since` as a duration (`24h`, `7d`); default 24 h. Raises InvalidInput `since`."""
    if since is None:
        return timedelta(hours=24)
    try:
        return parse_duration(since)
    except ValueError as error:
        raise InvalidInput("since", str(error), since[:100]) from None


@get("/report", operation_class=Documented, responses=errors(400, 401, 404, 503))
async def report(
    reports: Service[Reports],
    org: FromQuery[str | None] = None,
    since: FromQuery[str | None] = None,
    format: FromQuery[str] = "json",
) -> Response[Envelope[Report]]:
    """Per system its state, last backup, stored count and bytes, uploads stored, duplicate and refused and
    backups pruned in the window; per organization its usage against its quota. `format=csv` answers the
    same as a `text/csv` download (one row per system, its organization's usage beside it)."""
    if format not in {"json", "csv"}:
        raise InvalidInput("format", "json or csv", format[:100])
    made = await reports(org or None, window(since))
    if format == "csv":
        headers = {"Content-Disposition": 'attachment; filename="backup-collect-report.csv"'}
        download = Response(report_csv(made), media_type="text/csv", headers=headers)
        # Declared as the JSON answer so the document shows its real shape; the CSV is described above.
        return cast(Response[Envelope[Report]], download)
    return ok(made)


ROUTES = [report]
