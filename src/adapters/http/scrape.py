"""`GET /metrics`: the Prometheus text format, behind `BACKUP_METRICS_TOKEN` when it is set."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import HTTPRouteHandler

from adapters.http.auth import bearer_matches
from adapters.http.metrics import MEDIA_TYPE
from adapters.http.metrics import Metrics as Registry
from adapters.http.openapi import METRICS, Documented, errors
from adapters.http.services import Service
from domain.errors import Unavailable

log = logging.getLogger(__name__)
METRICS_CHALLENGE = 'Bearer realm="backup-collect metrics"'


async def scrape(
    request: Request[Any, Any, Any],
    metrics: Service[Registry],
    metrics_token: Service[str | None],
    system_states: Service[Callable[[], Awaitable[Mapping[str, int]]]],
) -> Response[str]:
    """Every metric of this process; the systems' states are counted afresh by one query per scrape."""
    token = metrics_token
    if token is not None and not bearer_matches(request.headers.get("authorization"), token):
        raise NotAuthorizedException("invalid metrics token", headers={"WWW-Authenticate": METRICS_CHALLENGE})
    try:
        metrics.set_states(await system_states())
    except Unavailable as exc:
        # The other metrics still tell the story (the database errors among them); the gauge keeps its last count.
        log.warning("system states not counted: %s", exc)
        metrics.dependency_error("database")
    return Response(metrics.render().decode(), media_type=MEDIA_TYPE)


def metrics_route(protected: bool) -> HTTPRouteHandler:
    """`GET /metrics`, documented with the bearer scheme when BACKUP_METRICS_TOKEN is set."""
    return get(
        "/metrics",
        media_type=MEDIA_TYPE,
        security=METRICS if protected else [],
        operation_class=Documented,
        responses=errors(401) if protected else None,
        summary="Prometheus metrics",
        description="The Prometheus text format: upload outcomes, bytes, durations, dependency errors, stale systems.",
    )(scrape)
