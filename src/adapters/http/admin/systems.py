"""The admin API's system routes: create, list, show, rotate, suspend, resume, destroy, their backups,
the stale list and schedules."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import HttpMethod, Request, Response, delete, get, patch, post, route
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Stream

from adapters.http.admin.edge import ok
from adapters.http.download import download
from adapters.http.dto import Deleted, Envelope
from adapters.http.openapi import Documented, DownloadOperation, errors
from adapters.http.services import Service
from adapters.shapes import OperatorBackupOut
from domain.destroy import Destroyed, DestroySystem
from domain.errors import InvalidInput
from domain.events import Via
from domain.model import NewSystem
from domain.registry import Registry, RotatedSecret, Suspension
from domain.restore import BackupAccess
from domain.schedules import Schedules, schedule_override
from domain.systems import StaleSystem, SystemAdmin, SystemDetail, SystemSummary


class SystemIn(msgspec.Struct, forbid_unknown_fields=True):
    system_key: str | None = None
    """Default: a generated key."""


def decode_optional(body: bytes, kind: type[SystemIn]) -> SystemIn:
    """An optional JSON body: none at all means every field's default."""
    if not body.strip():
        return kind()
    try:
        return msgspec.json.decode(body, type=kind)
    except (msgspec.MsgspecError, RecursionError) as error:
        raise InvalidInput("body", str(error), body[:100].decode(errors="replace")) from None


@post(
    "/orgs/{org_id:str}/systems",
    status_code=201,
    operation_class=Documented,
    responses=errors(400, 401, 404, 409, 413, 503),
)
async def create_system(
    org_id: FromPath[str], request: Request[Any, Any, Any], registry: Service[Registry]
) -> Response[Envelope[NewSystem]]:
    """Create a system; its secret is in this answer and nowhere else, ever. The body may be omitted."""
    data = decode_optional(await request.body(), SystemIn)
    return ok(await registry.create_system(org_id, data.system_key), "system created", 201)


@get("/systems", operation_class=Documented, responses=errors(400, 401, 404, 503))
async def list_systems(
    systems: Service[SystemAdmin], org: FromQuery[str | None] = None
) -> Response[Envelope[list[SystemSummary]]]:
    """Every system, or those of organization `org`."""
    return ok(await systems.list_systems(org or None))


@get("/systems/{system_key:str}", operation_class=Documented, responses=errors(400, 401, 404, 503))
async def show_system(system_key: FromPath[str], systems: Service[SystemAdmin]) -> Response[Envelope[SystemDetail]]:
    """One system with its caps."""
    return ok(await systems.show(system_key))


@post(
    "/systems/{system_key:str}/rotate-secret",
    status_code=200,
    operation_class=Documented,
    responses=errors(400, 401, 404, 503),
)
async def rotate_secret(system_key: FromPath[str], registry: Service[Registry]) -> Response[Envelope[RotatedSecret]]:
    """A new secret, shown once; the old one fails from now on."""
    return ok(await registry.rotate_secret(system_key), "secret rotated")


@post(
    "/systems/{system_key:str}/suspend",
    status_code=200,
    operation_class=Documented,
    responses=errors(400, 401, 404, 503),
)
async def suspend_system(system_key: FromPath[str], registry: Service[Registry]) -> Response[Envelope[Suspension]]:
    """A suspended system gets 401."""
    return ok(await registry.set_suspended(system_key, True), "system suspended")


@post(
    "/systems/{system_key:str}/resume",
    status_code=200,
    operation_class=Documented,
    responses=errors(400, 401, 404, 503),
)
async def resume_system(system_key: FromPath[str], registry: Service[Registry]) -> Response[Envelope[Suspension]]:
    """Let a suspended system authenticate again."""
    return ok(await registry.set_suspended(system_key, False), "system resumed")


@delete(
    "/systems/{system_key:str}", status_code=200, operation_class=Documented, responses=errors(400, 401, 404, 409, 503)
)
async def destroy_system(
    system_key: FromPath[str], destroy: Service[DestroySystem], include_protected: FromQuery[bool] = False
) -> Response[Envelope[Destroyed]]:
    """Erase every object of the system, then its rows; the DELETE is the confirmation. While a backup of
    it is protected: `409`, key `protected`, unless `include_protected=true`."""
    return ok(await destroy(system_key, Via.ADMIN, include_protected), "system destroyed")


@get("/systems/{system_key:str}/backups", operation_class=Documented, responses=errors(400, 401, 404, 503))
async def list_system_backups(
    system_key: FromPath[str], systems: Service[SystemAdmin], operator_access: Service[BackupAccess]
) -> Response[Envelope[list[OperatorBackupOut]]]:
    """The system's backups, newest first, with the operator's audit fields."""
    who = await systems.identity(system_key)
    return ok([OperatorBackupOut.of(b) for b in (await operator_access.listing(who)).backups])


@route(
    "/systems/{system_key:str}/backups/{backup_id:str}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    operation_class=DownloadOperation,
    responses=errors(400, 401, 404, 416, 500, 503),
)
async def download_system_backup(
    system_key: FromPath[str],
    backup_id: FromPath[str],
    request: Request[Any, Any, Any],
    systems: Service[SystemAdmin],
    operator_access: Service[BackupAccess],
) -> Stream:
    """Download one backup, exactly as the appliance route does (ranges included)."""
    who = await systems.identity(system_key)
    return await download(operator_access, who, backup_id, request)


@delete(
    "/systems/{system_key:str}/backups/{backup_id:str}",
    status_code=200,
    operation_class=Documented,
    responses=errors(400, 401, 404, 409, 503),
)
async def delete_system_backup(
    system_key: FromPath[str],
    backup_id: FromPath[str],
    systems: Service[SystemAdmin],
    operator_access: Service[BackupAccess],
) -> Response[Envelope[Deleted]]:
    """Delete one backup (append-only mode binds appliances, not operators); a protected one is `409`,
    key `protected`."""
    who = await systems.identity(system_key)
    deleted = await operator_access.delete(who, backup_id, Via.ADMIN)
    return ok(Deleted(id=deleted.id), "backup deleted")


@get("/stale", operation_class=Documented, responses=errors(400, 401, 503))
async def stale_systems(
    systems: Service[SystemAdmin], older_than: FromQuery[str | None] = None
) -> Response[Envelope[list[StaleSystem]]]:
    """Systems whose newest backup is older than `older_than` (`90m`, `36h`, `2d`), or that never uploaded;
    without it, the systems `down`."""
    return ok(await systems.stale(older_than))


class ScheduleIn(msgspec.Struct, forbid_unknown_fields=True):
    """A duration (`90m`, `36h`, `2d`) or whole seconds; null or absent follows the level above."""

    expected_every: str | int | None = None
    grace: str | int | None = None


@patch("/systems/{system_key:str}", operation_class=Documented, responses=errors(400, 401, 404, 413, 503))
async def set_system_schedule(
    system_key: FromPath[str], data: JSONBody[ScheduleIn], systems: Service[SystemAdmin], schedules: Service[Schedules]
) -> Response[Envelope[SystemDetail]]:
    """Set the system's own schedule (`{"expected_every", "grace"}`; both null: its organization's)."""
    await schedules.set_system(system_key, schedule_override(data.expected_every, data.grace), Via.ADMIN)
    return ok(await systems.show(system_key), "schedule set")


ROUTES = [
    create_system,
    list_systems,
    show_system,
    rotate_secret,
    suspend_system,
    resume_system,
    destroy_system,
    list_system_backups,
    download_system_backup,
    delete_system_backup,
    stale_systems,
    set_system_schedule,
]
