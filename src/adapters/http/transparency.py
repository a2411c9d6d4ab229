"""The event log's public side: the latest signed checkpoint and the verifier key, for anyone (they reveal
only a count and hashes). Plain text, as C2SP tlog-checkpoint and signed-note clients read them."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from adapters.http.auth import authenticate
from adapters.http.backups import BACKUPS_PATH
from adapters.http.dto import Envelope
from adapters.http.openapi import BASIC, Documented, errors
from adapters.http.services import LogPublic, Service
from domain.errors import NotFound
from domain.ports import SystemDirectory
from domain.restore import BackupAccess

TEXT = "text/plain"
"""Litestar adds `; charset=utf-8` to a text media type itself (naming it here gave two)."""


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


class ProofOut(msgspec.Struct):
    """SPEC's proof: the leaf (base64 of its bytes), the RFC 9162 inclusion path (base64 hashes, leaf
    side first) and the signed checkpoint whose tree it is in."""

    leaf_index: int
    tree_size: int
    leaf: str
    hashes: list[str]
    checkpoint: str


@get(
    f"{BACKUPS_PATH}/{{backup_id:str}}/proof",
    security=BASIC,
    operation_class=Documented,
    responses=errors(400, 401, 404, 503),
)
async def backup_proof(
    backup_id: FromPath[str],
    request: Request[Any, Any, Any],
    directory: Service[SystemDirectory],
    access: Service[BackupAccess],
    log: Service[LogPublic],
) -> Envelope[ProofOut]:
    """That the caller's backup is in the signed log: 404 (as for any unknown id) before a checkpoint covers
    its `backup.stored` entry, and for another system's backup."""
    identity = await authenticate(directory, request.headers.get("authorization"))
    backup = await access.get(identity, backup_id)
    proof = await log.proofs.proof(backup)
    if proof is None:
        raise NotFound(f"backup {backup_id}: no checkpoint covers it yet")
    data = ProofOut(
        leaf_index=proof.leaf_index,
        tree_size=proof.tree_size,
        leaf=_b64(proof.leaf),
        hashes=[_b64(h) for h in proof.hashes],
        checkpoint=proof.checkpoint,
    )
    return Envelope(code=200, message="ok", data=data)


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


ROUTES = [*ROUTES, backup_proof]
