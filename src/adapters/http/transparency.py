"""The event log's public side: the latest signed checkpoint and the verifier key, for anyone (they reveal
only a count and hashes). Plain text, as C2SP tlog-checkpoint and signed-note clients read them."""

from __future__ import annotations

from litestar import Response, get
from litestar.exceptions import NotFoundException

from adapters.http.openapi import Documented, errors
from adapters.http.services import LogPublic, Service

TEXT = "text/plain; charset=utf-8"


@get("/api/log/checkpoint", operation_class=Documented, responses=errors(404, 503), media_type=TEXT)
async def latest_checkpoint(log: Service[LogPublic]) -> Response[str]:
    """The latest signed checkpoint (C2SP tlog-checkpoint in a signed note); 404 before the first one."""
    note = await log.latest_note()
    if note is None:
        raise NotFoundException("no checkpoint yet")
    return Response(note, media_type=TEXT, headers={"Cache-Control": "no-cache"})


@get("/api/log/public-key", operation_class=Documented, responses=errors(503), media_type=TEXT)
async def public_key(log: Service[LogPublic]) -> Response[str]:
    """The log's verifier key: `<name>+<key ID hex>+<base64(0x01 || Ed25519 public key)>`."""
    return Response(log.public_key() + "\n", media_type=TEXT)


ROUTES = [latest_checkpoint, public_key]
