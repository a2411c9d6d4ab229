"""HTTP-protocol rules applied around the whole application, before and after the router.

- A transfer coding other than `chunked` (RFC 9112 §6.1: `gzip, chunked`, `identity`…) is refused with
  `501` before the application sees the request: the body would otherwise be stored as received.
- `OPTIONS` answers an `Allow` that lists every method its path serves. Litestar writes that header from
  the first handler registered on a path, so a path served by two handlers (`GET` and `POST`
  `/api/systems/backups`) listed only one of them.
- A NUL character in the path or the query (`%00`) is `400`: no name, key or id holds one, and PostgreSQL
  refuses it in text (a lookup with one was a `500`).
- Every answer under the console's path carries the console's security headers, error pages and unknown
  console routes included (Litestar's router-level headers skip answers built by exception handlers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec
from litestar.enums import ScopeType
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent, Message, Receive, Scope, Send


def allowed_methods(routes: Iterable[object]) -> dict[str, str]:
    """Each HTTP path template (as routing names it) → the `Allow` value listing its methods."""
    return {route.path_format: ", ".join(sorted(route.methods)) for route in routes if isinstance(route, HTTPRoute)}


class Edge:
    """ASGI wrapper: `501` for unknown transfer codings, a true `Allow`, and headers for a path prefix."""

    def __init__(self, app: ASGIApp, allow: Mapping[str, str], prefix_headers: Mapping[str, Mapping[str, str]]) -> None:
        """Args:
        app: The application.
        allow: `allowed_methods` of its routes.
        prefix_headers: Path prefix → headers every answer under it carries (unless it sets them itself).
        """
        self._app = app
        self._allow = allow
        self._prefix_headers = {
            prefix: [(name.lower().encode(), value.encode()) for name, value in headers.items()]
            for prefix, headers in prefix_headers.items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        codings = [value for name, value in scope["headers"] if name.lower() == b"transfer-encoding"]
        if codings and b",".join(codings).strip().lower() != b"chunked":
            await _not_implemented(send)
            return
        extra = next((h for prefix, h in self._prefix_headers.items() if _under(scope["path"], prefix)), [])
        nul = _has_nul(scope)
        if scope["method"] != "OPTIONS" and not extra and not nul:
            await self._app(scope, receive, send)
            return

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                allow = self._allow.get(scope.get("path_template", ""))  # set by the router
                if scope["method"] == "OPTIONS" and allow is not None and b"allow" in present:
                    headers = [(n, v) for n, v in headers if n.lower() != b"allow"] + [(b"allow", allow.encode())]
                message["headers"] = headers
            await send(message)

        if nul:
            await _nul_refused(answer)
            return
        await self._app(scope, receive, answer)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _has_nul(scope: Scope) -> bool:
    return "\x00" in scope["path"] or b"%00" in scope["query_string"] or b"\x00" in scope["query_string"]


async def _nul_refused(send: Send) -> None:
    error = {"key": "request", "message": "a NUL character in the path or query", "value": ""}
    body = msgspec.json.encode(
        {
            "code": 400,
            "message": "validation failed",
            "data": {"errors": [error], "details": {}, "type": "validation_error"},
        }
    )
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": 400, "headers": headers}
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)


async def _not_implemented(send: Send) -> None:
    body = msgspec.json.encode(
        {"code": 501, "message": "transfer coding not implemented: only chunked is accepted", "data": None}
    )
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        # The body was not read: the connection cannot be reused.
        (b"connection", b"close"),
    ]
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": 501, "headers": headers}
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)
