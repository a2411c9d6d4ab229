"""The admin API's event log route: the log, a page at a time, filtered as `log show` filters it."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response, get
from litestar.params import FromQuery

from adapters.http.admin.edge import ok
from adapters.http.dto import Envelope
from adapters.http.openapi import Documented, errors
from adapters.http.services import Service
from adapters.shapes import event_json
from domain.history import History


class EventOut(msgspec.Struct):
    """One entry, SPEC's shape."""

    seq: int
    at: str
    type: str
    org_id: str | None
    system_key: str | None
    backup_id: str | None
    actor: str
    detail: dict[str, Any]


class LogPage(msgspec.Struct):
    """Entries in seq order; pass `next_after` as `after` for the next page (null: no more now)."""

    events: list[EventOut]
    next_after: int | None


@get("/log", operation_class=Documented, responses=errors(400, 401, 503))
async def show_log(
    history: Service[History],
    system: FromQuery[str | None] = None,
    since: FromQuery[str | None] = None,
    type: FromQuery[str | None] = None,
    after: FromQuery[int] = -1,
    limit: FromQuery[int] = 100,
) -> Response[Envelope[LogPage]]:
    """The event log from `after` (a seq; -1 from the first), at most `limit` (1 to 1000) entries, of one
    `system`, from `since` (a duration back from now, `36h`, or an RFC 3339 date or time), of one `type`."""
    query = history.query(system_key=system, since=since, type=type, after=after, limit=limit)
    page = await history.page(query)
    events = [msgspec.convert(event_json(event), EventOut) for event in page.events]
    return ok(LogPage(events=events, next_after=page.next_after))


ROUTES = [show_log]
