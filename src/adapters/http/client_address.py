"""The client's address: the TCP peer, or the client a trusted proxy names in `X-Forwarded-For`
(uvicorn's proxy headers, set up in `app.serve`, put it in the ASGI scope)."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from litestar.connection import ASGIConnection

log = logging.getLogger(__name__)
# How much of a bogus address a warning quotes (a header can be 8 KiB of it).
_QUOTED = 64


def client_address(request: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The client's IP address in canonical text, or None when there is none or it is not an IP address
    (a trusted proxy's `X-Forwarded-For` entry such as `not-an-ip` is not believed: one warning)."""
    if request.client is None or not request.client.host:
        return None
    given = request.client.host
    try:
        return str(ipaddress.ip_address(given))
    except ValueError:
        quoted = given[:_QUOTED] + ("…" if len(given) > _QUOTED else "")
        log.warning("the client address %r is not an IP address (from a trusted proxy?); taken as unknown", quoted)
        return None
