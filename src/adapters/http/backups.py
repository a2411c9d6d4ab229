"""Appliance routes under /api/systems/backups. Thin: parse, call a use case, shape the answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response, post
from litestar.exceptions import InternalServerException

from adapters.http.aborted import ClientGone
from adapters.http.auth import authenticate_upload
from adapters.http.client_address import client_address
from adapters.http.drain import Drain
from adapters.http.dto import BackupOut, Envelope
from adapters.http.gate import UploadGate
from adapters.http.observe import exchange
from adapters.http.openapi import BASIC, UploadOperation, answer, errors
from adapters.http.services import LogPublic, Service
from adapters.http.upload_headers import DIGEST_HEADERS, IDEMPOTENCY_KEY, expected_digests, idempotency_key, repr_digest
from domain.ingest import IngestBackup
from domain.ledger import Outcome
from domain.model import Upload
from domain.ports import SystemDirectory
from domain.receipts import HEADER as RECEIPT

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
@post(
    BACKUPS_PATH,
    status_code=201,
    request_max_body_size=None,
    security=BASIC,
    operation_class=UploadOperation,
    responses={
        200: answer(BackupOut, "The same body is stored already: that backup (nothing stored twice)"),
        **errors(400, 401, 408, 409, 413, 422, 429, 501, 503),
    },
)
async def upload_backup(
    request: Request[Any, Any, Any],
    directory: Service[SystemDirectory],
    drain: Service[Drain],
    gate: Service[UploadGate],
    ingest: Service[IngestBackup],
    log: Service[LogPublic],
) -> Response[Envelope[BackupOut]]:
    """Upload a GPG-encrypted configuration backup (the seed endpoint); the body is streamed.

    `201` for a new backup (or a replayed Idempotency-Key, with `Idempotent-Replayed: true`), `200` when
    the system stores this very body already; both carry `Repr-Digest` of what is stored."""
    standing = await authenticate_upload(directory, request.headers.get("authorization"))
    identity = standing.identity
    seen = exchange(request)
    seen.system_key = identity.system_key
    upload = Upload(
        filename_header=_utf8(request.headers.get("x-filename")),
        declared_size=request.content_length,
        body=gate.body(_body(request)),
        uploader_ip=client_address(request),
        idempotency_key=idempotency_key(request.headers.get(IDEMPOTENCY_KEY)),
        digests=expected_digests({name: request.headers.get(name) for name in DIGEST_HEADERS}),
    )
    with gate.admit(identity.system_key):
        async with drain.admit():
            result = await ingest(standing, upload)
    backup = result.backup
    headers = {"Location": f"{BACKUPS_PATH}/{backup.id}", "Repr-Digest": repr_digest(backup.sha256)}
    if result.outcome is Outcome.REPLAYED:
        headers["Idempotent-Replayed"] = "true"
    if result.seq is not None:
        headers[RECEIPT] = log.receipts.issue(backup, identity.system_key, result.seq)
    status, message = (200, "backup already stored") if result.outcome is Outcome.DUPLICATE else (201, "backup stored")
    seen.backup_id, seen.size = backup.id, backup.size
    seen.outcome, seen.pruned = result.outcome.value, list(result.pruned)
    return Response(
        Envelope(code=status, message=message, data=BackupOut.of(backup)), status_code=status, headers=headers
    )
