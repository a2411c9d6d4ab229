"""Appliance routes to restore: list, download and delete the caller's own backups."""

from __future__ import annotations

from typing import Any

from litestar import HttpMethod, Request, delete, get, route
from litestar.params import FromPath
from litestar.response import Stream

from adapters.http.auth import authenticate
from adapters.http.backups import BACKUPS_PATH
from adapters.http.download import download
from adapters.http.dto import Deleted, Envelope, ListingOut
from adapters.http.openapi import BASIC, Documented, DownloadOperation, errors
from adapters.http.services import Service
from adapters.shapes import plain
from domain.ports import SystemDirectory
from domain.restore import BackupAccess


@get(BACKUPS_PATH, security=BASIC, operation_class=Documented, responses=errors(401, 503))
async def list_backups(
    request: Request[Any, Any, Any], directory: Service[SystemDirectory], access: Service[BackupAccess]
) -> Envelope[ListingOut]:
    """The caller's stored backups, newest first, with its usage against its caps."""
    identity = await authenticate(directory, request.headers.get("authorization"))
    listing = await access.listing(identity)
    return Envelope(code=200, message="ok", data=plain(listing))


@route(
    f"{BACKUPS_PATH}/{{backup_id:str}}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    security=BASIC,
    operation_class=DownloadOperation,
    responses=errors(400, 401, 404, 416, 500, 503),
)
async def download_backup(
    backup_id: FromPath[str],
    request: Request[Any, Any, Any],
    directory: Service[SystemDirectory],
    access: Service[BackupAccess],
) -> Stream:
    """Stream one of the caller's backups; `Range` gives a 206 so a large restore can resume."""
    identity = await authenticate(directory, request.headers.get("authorization"))
    return await download(access, identity, backup_id, request)


@delete(
    f"{BACKUPS_PATH}/{{backup_id:str}}",
    status_code=200,
    security=BASIC,
    operation_class=Documented,
    responses=errors(400, 401, 403, 404, 409, 503),
)
async def delete_backup(
    backup_id: FromPath[str],
    request: Request[Any, Any, Any],
    directory: Service[SystemDirectory],
    access: Service[BackupAccess],
) -> Envelope[Deleted]:
    """Delete one of the caller's backups; its bytes stop counting at once (403 in append-only mode, 409
    key `protected` while an operator protects it)."""
    identity = await authenticate(directory, request.headers.get("authorization"))
    deleted = await access.delete(identity, backup_id)
    return Envelope(code=200, message="backup deleted", data=Deleted(id=deleted.id))
