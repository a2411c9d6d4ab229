"""The admin API's retention routes: preview a policy on a system, protect and unprotect backups."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from adapters.http.admin.edge import ok
from adapters.http.dto import Envelope
from adapters.http.openapi import Documented, errors
from adapters.http.services import Service
from adapters.shapes import OperatorBackupOut, preview_shape
from domain.errors import InvalidInput
from domain.events import Via
from domain.keeping import RetentionAdmin


class ProtectIn(msgspec.Struct, forbid_unknown_fields=True):
    note: str | None = None
    """Why it is kept, shown with it."""


@get("/systems/{system_key:str}/retention", operation_class=Documented, responses=errors(400, 401, 404, 503))
async def preview_retention(
    system_key: FromPath[str],
    retention: Service[RetentionAdmin],
    keep_last: FromQuery[str | None] = None,
    keep_daily: FromQuery[str | None] = None,
    keep_weekly: FromQuery[str | None] = None,
    keep_monthly: FromQuery[str | None] = None,
) -> Response[Envelope[dict[str, Any]]]:
    """Every stored backup, newest first, with `kept_by` under the policy in force, or with the `keep_*`
    given changing it (`null`: it would be pruned). Nothing changes."""
    given = {"keep_last": keep_last, "keep_daily": keep_daily, "keep_weekly": keep_weekly, "keep_monthly": keep_monthly}
    changes = {}
    for tier, text in given.items():
        if text is None:
            continue
        if not text.strip().isdigit():
            raise InvalidInput("retention", f"{tier} must be a whole number ≥ 0", text[:100])
        changes[tier] = int(text)
    return ok(preview_shape(await retention.preview(system_key, changes)))


@post(
    "/systems/{system_key:str}/backups/{backup_id:str}/protect",
    status_code=200,
    operation_class=Documented,
    responses=errors(400, 401, 404, 409, 413, 503),
)
async def protect_backup(
    system_key: FromPath[str],
    backup_id: FromPath[str],
    request: Request[Any, Any, Any],
    retention: Service[RetentionAdmin],
) -> Response[Envelope[OperatorBackupOut]]:
    """Never prune nor delete the backup until unprotected; `{"note"?}` (the body may be omitted). A
    backup past BACKUP_MAX_PROTECTED_PER_SYSTEM is `409`, key `protected`."""
    body = await request.body()
    try:
        data = msgspec.json.decode(body, type=ProtectIn) if body.strip() else ProtectIn()
    except (msgspec.MsgspecError, RecursionError) as error:
        raise InvalidInput("body", str(error), body[:100].decode(errors="replace")) from None
    return ok(
        OperatorBackupOut.of(await retention.protect(system_key, backup_id, data.note, Via.ADMIN)), "backup protected"
    )


@post(
    "/systems/{system_key:str}/backups/{backup_id:str}/unprotect",
    status_code=200,
    operation_class=Documented,
    responses=errors(400, 401, 404, 503),
)
async def unprotect_backup(
    system_key: FromPath[str], backup_id: FromPath[str], retention: Service[RetentionAdmin]
) -> Response[Envelope[OperatorBackupOut]]:
    """Let retention and deletes take the backup again."""
    return ok(OperatorBackupOut.of(await retention.unprotect(system_key, backup_id, Via.ADMIN)), "backup unprotected")


ROUTES = [preview_retention, protect_backup, unprotect_backup]
