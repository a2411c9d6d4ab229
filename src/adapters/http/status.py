"""`GET /api/systems/status`: the appliance's own state, as the service recorded it (a dashboard card)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from adapters.http.auth import authenticate
from adapters.http.dto import Envelope
from adapters.http.openapi import BASIC, Documented, errors
from adapters.http.services import Service
from adapters.shapes import plain
from domain.ports import SystemDirectory
from domain.systems import SystemAdmin, SystemStatus

STATUS_PATH = "/api/systems/status"


@get(STATUS_PATH, security=BASIC, operation_class=Documented, responses=errors(401, 503))
async def system_status(
    request: Request[Any, Any, Any], directory: Service[SystemDirectory], systems: Service[SystemAdmin]
) -> Envelope[SystemStatus]:
    """`{"state", "last_backup_at", "next_expected_before", "backups", "total_size", "last_error"}`: the
    state computed now (an upload's refusal shows at once); `next_expected_before` is the newest stored
    backup's time (or the system's creation) plus its expected interval."""
    identity = await authenticate(directory, request.headers.get("authorization"))
    return Envelope(code=200, message="ok", data=plain(await systems.status(identity)))
