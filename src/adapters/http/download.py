"""Downloads over HTTP: the Range header (RFC 9110 §14) in, a streamed 200 or 206 out."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request
from litestar.response import Stream

from domain.model import Backup, SystemIdentity
from domain.naming import download_name
from domain.ranges import RangeRequest
from domain.restore import BackupAccess

_SINGLE_RANGE = re.compile(r"\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*", re.IGNORECASE)
# Past any object's size: a position of more digits than this means the same as this one, so a Range
# of thousands of digits (int() refuses past 4,300) is answered as its meaning demands, never raised.
_FAR = 10**18


def _position(digits: str) -> int | None:
    """A byte position as sent; absurdly long numbers are clipped to `_FAR` (RFC 9110 has no bound)."""
    if not digits:
        return None
    significant = digits.lstrip("0") or "0"
    return int(significant) if len(significant) < len(str(_FAR)) else _FAR


def etag(backup: Backup) -> str:
    """Strong: a backup's bytes never change under its id, and the sha256 names them."""
    return f'"{backup.sha256}"'


def range_request(header: str | None, if_range: str | None, backup: Backup) -> RangeRequest | None:
    """The one range asked for, or None to send everything.

    RFC 9110 lets a server ignore what it does not serve: a malformed header, several ranges, another
    unit, or an `If-Range` naming another version of the representation all get the whole backup.
    """
    if header is None or (if_range is not None and if_range.strip() != etag(backup)):
        return None
    match = _SINGLE_RANGE.fullmatch(header)
    if match is None or not (match.group(1) or match.group(2)):
        return None
    first = _position(match.group(1))
    last = _position(match.group(2))
    if first is not None and last is not None and last < first:
        return None
    return RangeRequest(first=first, last=last)


async def _nothing() -> AsyncIterator[bytes]:
    empty: tuple[bytes, ...] = ()
    for chunk in empty:
        yield chunk


async def download(
    access: BackupAccess, who: SystemIdentity, backup_id: str, request: Request[Any, Any, Any]
) -> Stream:
    """Stream one backup, or the range asked for; errors surface before the first byte is sent."""
    backup = await access.get(who, backup_id)
    wanted = range_request(request.headers.get("range"), request.headers.get("if-range"), backup)
    if request.method == "HEAD":  # as GET, without reading or sending a byte of the body
        span, chunks = await access.peek(backup, wanted), _nothing()
    else:
        opened = await access.open(backup, wanted)
        span, chunks = opened.span, opened.chunks
    digest = base64.b64encode(bytes.fromhex(backup.sha256)).decode()
    headers = {
        "Content-Disposition": f'attachment; filename="{download_name(backup.filename, backup.envelope)}"',
        "Content-Length": str(span.length),
        "X-Content-Type-Options": "nosniff",
        "ETag": etag(backup),
        # RFC 9530: the digest of the whole representation, also on a 206.
        "Repr-Digest": f"sha-256=:{digest}:",
        "Accept-Ranges": "bytes",
        # Backups are private to their system: no shared cache may keep a copy.
        "Cache-Control": "private, no-store",
    }
    if wanted is not None:
        headers["Content-Range"] = f"bytes {span.start}-{span.end - 1}/{span.size}"
    return Stream(
        chunks,
        status_code=200 if wanted is None else 206,
        media_type="application/octet-stream",
        headers=headers,
    )
