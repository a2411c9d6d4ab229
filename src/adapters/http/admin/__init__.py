"""The admin API under /api/admin: the operator's CLI over HTTP, behind a bearer token.

Every route is a thin call of the same use case the CLI calls, and answers the CLI's JSON in `data`:
organizations in `orgs.py`, systems and their backups in `systems.py`, previews and protection in
`retention.py`, what they share in `edge.py`.
"""

from __future__ import annotations

from litestar import Router

from adapters.http.admin import log, orgs, report, retention, systems, webhooks
from adapters.http.admin.edge import ADMIN_PATH, MAX_ADMIN_BODY, AdminRequest, bearer_guard
from adapters.http.openapi import errors
from domain.attempts import FailedAttempts

__all__ = ["ADMIN_PATH", "admin_router"]


def admin_router(token: str | None, attempts: FailedAttempts) -> Router:
    handlers = [*orgs.ROUTES, *systems.ROUTES, *retention.ROUTES, *log.ROUTES, *webhooks.ROUTES, *report.ROUTES]
    for handler in handlers:
        # The bearer guard answers 429 to an address that sent too many wrong tokens, on every route.
        handler.responses = {**(handler.responses or {}), **errors(429)}
    return Router(
        ADMIN_PATH,
        guards=[bearer_guard(token, attempts)],
        request_class=AdminRequest,
        request_max_body_size=MAX_ADMIN_BODY,
        tags=["admin"],
        security=[{"bearer": []}],
        route_handlers=handlers,
    )
