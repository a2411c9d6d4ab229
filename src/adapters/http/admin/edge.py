"""What every admin route shares: the bearer guard, the request class, the envelope."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException, NotAuthorizedException, NotFoundException
from litestar.handlers.base import BaseRouteHandler

from adapters.http.auth import bearer_matches
from adapters.http.client_address import client_address
from adapters.http.dto import Envelope
from adapters.shapes import plain
from domain.attempts import FailedAttempts

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


def bearer_guard(token: str | None, attempts: FailedAttempts) -> Any:
    """404 for everything while no token is configured; 401 for a missing or wrong token; 429 for every
    request of a client address that sent too many wrong ones this minute."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if token is None:
            raise NotFoundException()
        client = client_address(connection)
        await attempts.admit(client)
        if not bearer_matches(connection.headers.get("authorization"), token):
            await attempts.failed(client)
            raise NotAuthorizedException("invalid admin token", headers={"WWW-Authenticate": BEARER_CHALLENGE})

    return guard


def ok(data: T, message: str = "ok", status: int = 200) -> Response[Envelope[T]]:
    """`data` in the envelope, as the CLI's JSON (its declared type is what the OpenAPI document shows)."""
    return Response(Envelope(code=status, message=message, data=plain(data, operator=True)), status_code=status)
