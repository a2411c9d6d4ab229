"""What each request did: its request id, one access-log line, and the upload metrics.

`Observe` wraps the whole Litestar handler (router and exception handling included), so unknown routes,
guard refusals and cancelled uploads are seen as well. The routes and the error table fill in the
request's `Exchange`; the outcome of an upload is decided here, at the edge, from the answer and the
error that produced it, so the domain never learns about metrics.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from adapters.http.answers import upload_outcome
from adapters.http.metrics import Metrics
from domain.errors import StoreFull, Unavailable

access_log = logging.getLogger("backup_collect.access")
REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_EXCHANGE = "backup_collect.exchange"
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
"""The id of the request being served, for every log line written while serving it."""
# Unavailable.dependency (the domain's words) → the `dependency` label.
_DEPENDENCY_LABEL = {"database": "database", "object store": "object_store"}


@dataclass
class Exchange:
    """What the routes and the error table learnt about one request."""

    request_id: str
    upload: bool = False
    system_key: str | None = None
    backup_id: str | None = None
    size: int | None = None
    outcome: str | None = None
    """Set by a route that knows better than the status (a duplicate, a replay)."""
    pruned: list[str] = field(default_factory=list)
    error: BaseException | None = None


def exchange(request: Request[Any, Any, Any]) -> Exchange:
    """The request's exchange (a throwaway one outside `Observe`, as in a bare handler test)."""
    found = request.scope.get("state", {}).get(_EXCHANGE)
    return found if isinstance(found, Exchange) else Exchange(request_id="-")


def request_id(given: str | None) -> str:
    """The client's `X-Request-ID` when it is 1 to 128 of `[A-Za-z0-9._-]`, else a new one."""
    if given is not None and _VALID_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


class Observe:
    """ASGI wrapper: request id in and out, one access-log line per request, upload metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics, upload_path: str) -> None:
        self._app = app
        self._metrics = metrics
        self._upload_path = upload_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        seen = Exchange(
            request_id=request_id(given.decode("latin-1") if given is not None else None),
            upload=scope["method"] == "POST" and scope["path"] == self._upload_path,
        )
        scope.setdefault("state", {})[_EXCHANGE] = seen
        token = request_id_var.set(seen.request_id)
        status: int | None = None
        echo = (REQUEST_ID_HEADER.encode(), seen.request_id.encode())

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echo]
            await send(message)

        started = time.perf_counter()
        try:
            await self._app(scope, receive, answer)
        except BaseException as error:
            seen.error = seen.error or error
            raise
        finally:
            self._done(scope, seen, status, time.perf_counter() - started)
            request_id_var.reset(token)

    def _done(self, scope: HTTPScope, seen: Exchange, status: int | None, seconds: float) -> None:
        if isinstance(seen.error, Unavailable) and seen.error.dependency in _DEPENDENCY_LABEL:
            self._metrics.dependency_error(_DEPENDENCY_LABEL[seen.error.dependency])
        if status is not None:
            self._metrics.response(status, store_full=isinstance(seen.error, StoreFull))
        fields: dict[str, object] = {
            "request_id": seen.request_id,
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
        }
        if seen.upload:
            outcome = seen.outcome or upload_outcome(status, seen.error)
            self._metrics.upload(outcome, size=seen.size or 0, seconds=seconds, pruned=len(seen.pruned))
            fields |= {
                "system_key": seen.system_key,
                "backup_id": seen.backup_id,
                "size": seen.size,
                "outcome": outcome,
                "pruned": seen.pruned,
            }
        access_log.info("%s %s %s", scope["method"], scope["path"], status or "-", extra={"fields": fields})
