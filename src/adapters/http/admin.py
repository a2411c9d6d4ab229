"""The admin API under /api/admin: the operator's CLI over HTTP, behind a bearer token.

Every route is a thin call of the same use case the CLI calls, and answers the CLI's JSON in `data`.
"""

from __future__ import annotations

import hmac
from typing import Any, TypeVar

import msgspec
from litestar import HttpMethod, Request, Response, Router, delete, get, patch, post, route
from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException, NotAuthorizedException, NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Stream

from adapters.http.download import download
from adapters.http.dto import Deleted, Envelope
from adapters.http.openapi import Documented, DownloadOperation, errors
from adapters.http.services import Service
from adapters.shapes import OperatorBackupOut, plain
from domain.destroy import Destroyed, DestroySystem
from domain.errors import InvalidInput
from domain.model import NewSystem, Organization
from domain.organizations import OrgAdmin, OrgDetail, OrgSummary
from domain.registry import Registry, RotatedSecret, Suspension
from domain.restore import BackupAccess
from domain.systems import StaleSystem, SystemAdmin, SystemDetail, SystemSummary

T = TypeVar("T")
ADMIN_PATH = "/api/admin"
BEARER_CHALLENGE = 'Bearer realm="backup-collect admin"'
# Every admin body is a few small fields; anything bigger is refused (413) before it is read whole.
MAX_ADMIN_BODY = 64 * 1024


class AdminRequest(Request[Any, Any, Any]):
    """JSON nested deeper than msgspec's recursion limit is bad input (400), not an internal error."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise ClientException("JSON nested too deeply") from None


class OrgIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    quota_bytes: int | None = None
    """None follows BACKUP_MAX_SIZE_PER_ORG, 0 means no quota."""


class QuotaIn(msgspec.Struct, forbid_unknown_fields=True):
    quota_bytes: int | None
    """Required; null follows BACKUP_MAX_SIZE_PER_ORG, 0 means no quota."""


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


def bearer_guard(token: str | None) -> Any:
    """404 for everything while no token is configured; 401 for a missing or wrong token."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if token is None:
            raise NotFoundException()
        scheme, _sep, given = connection.headers.get("authorization", "").partition(" ")
        # compare_digest on bytes: constant time in the token's content, whatever its characters.
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise NotAuthorizedException("invalid admin token", headers={"WWW-Authenticate": BEARER_CHALLENGE})

    return guard


def ok(data: T, message: str = "ok", status: int = 200) -> Response[Envelope[T]]:
    """`data` in the envelope, as the CLI's JSON (its declared type is what the OpenAPI document shows)."""
    return Response(Envelope(code=status, message=message, data=plain(data, operator=True)), status_code=status)


@post("/orgs", status_code=201, operation_class=Documented, responses=errors(400, 401, 413, 503))
async def create_org(data: JSONBody[OrgIn], registry: Service[Registry]) -> Response[Envelope[Organization]]:
    """Create an organization: `{"id", "name", "quota_bytes"}`."""
    return ok(await registry.create_org(data.name, data.quota_bytes), "organization created", 201)


@get("/orgs", operation_class=Documented, responses=errors(401, 503))
async def list_orgs(orgs: Service[OrgAdmin]) -> Response[Envelope[list[OrgSummary]]]:
    """Every organization with its usage and number of systems."""
    return ok(await orgs.list_orgs())


@get("/orgs/{org_id:str}", operation_class=Documented, responses=errors(400, 401, 404, 503))
async def show_org(org_id: FromPath[str], orgs: Service[OrgAdmin]) -> Response[Envelope[OrgDetail]]:
    """One organization with the quota that applies to it."""
    return ok(await orgs.show(org_id))


@patch("/orgs/{org_id:str}", operation_class=Documented, responses=errors(400, 401, 404, 413, 503))
async def set_org_quota(
    org_id: FromPath[str], data: JSONBody[QuotaIn], orgs: Service[OrgAdmin]
) -> Response[Envelope[OrgDetail]]:
    """Set the organization's own quota (`0` none, `null` the default)."""
    return ok(await orgs.set_quota(org_id, data.quota_bytes), "quota set")


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


@delete("/systems/{system_key:str}", status_code=200, operation_class=Documented, responses=errors(400, 401, 404, 503))
async def destroy_system(system_key: FromPath[str], destroy: Service[DestroySystem]) -> Response[Envelope[Destroyed]]:
    """Erase every object of the system, then its rows; the DELETE is the confirmation."""
    return ok(await destroy(system_key), "system destroyed")


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
    responses=errors(400, 401, 404, 503),
)
async def delete_system_backup(
    system_key: FromPath[str],
    backup_id: FromPath[str],
    systems: Service[SystemAdmin],
    operator_access: Service[BackupAccess],
) -> Response[Envelope[Deleted]]:
    """Delete one backup (append-only mode binds appliances, not operators)."""
    who = await systems.identity(system_key)
    deleted = await operator_access.delete(who, backup_id)
    return ok(Deleted(id=deleted.id), "backup deleted")


@get("/stale", operation_class=Documented, responses=errors(400, 401, 503))
async def stale_systems(
    older_than: FromQuery[str], systems: Service[SystemAdmin]
) -> Response[Envelope[list[StaleSystem]]]:
    """Systems whose newest backup is older than `older_than` (`90m`, `36h`, `2d`), or that never uploaded."""
    return ok(await systems.stale(older_than))


def admin_router(token: str | None) -> Router:
    return Router(
        ADMIN_PATH,
        guards=[bearer_guard(token)],
        request_class=AdminRequest,
        request_max_body_size=MAX_ADMIN_BODY,
        tags=["admin"],
        security=[{"bearer": []}],
        route_handlers=[
            create_org,
            list_orgs,
            show_org,
            set_org_quota,
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
        ],
    )
