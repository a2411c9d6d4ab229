"""Appliance routes under /api/systems/backups. Thin: parse, call a use case, shape the answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response, post
from litestar.exceptions import InternalServerException

from adapters.http.auth import authenticate
from adapters.http.drain import Drain
from adapters.http.dto import BackupOut, Envelope
from adapters.http.observe import exchange
from adapters.http.services import Service
from domain.errors import ClientGone
from domain.ingest import IngestBackup
from domain.model import Upload
from domain.ports import SystemDirectory

BACKUPS_PATH = "/api/systems/backups"


async def _body(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            yield chunk
    except InternalServerException as exc:  # Litestar's word for an http.disconnect mid-body
        raise ClientGone(str(exc.detail)) from exc


def _utf8(header: str | None) -> str | None:
    """Header values arrive decoded as latin-1; appliances send UTF-8, so `ä` is one character."""
    if header is None:
        return None
    try:
        return header.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return header


# The ingest use case caps the stream itself and answers with the SPEC's envelope, so Litestar's
# own body limit (10 MB by default, which would refuse every real backup) is lifted on this route.
@post(BACKUPS_PATH, status_code=201, request_max_body_size=None)
async def upload_backup(
    request: Request[Any, Any, Any],
    directory: Service[SystemDirectory],
    drain: Service[Drain],
    ingest: Service[IngestBackup],
) -> Response[Envelope]:
    """Upload a GPG-encrypted configuration backup (the seed endpoint); the body is streamed."""
    identity = await authenticate(directory, request.headers.get("authorization"))
    seen = exchange(request)
    seen.system_key = identity.system_key
    upload = Upload(
        filename_header=_utf8(request.headers.get("x-filename")),
        declared_size=request.content_length,
        body=_body(request),
        # The TCP peer, or the client a trusted proxy names (uvicorn's proxy headers, set up in app.serve).
        uploader_ip=request.client.host if request.client else None,
    )
    async with drain.admit():
        backup = await ingest(identity, upload)
    seen.backup_id, seen.size = backup.id, backup.size
    return Response(
        Envelope(code=201, message="backup stored", data=BackupOut.of(backup)),
        status_code=201,
        headers={"Location": f"{BACKUPS_PATH}/{backup.id}"},
    )
