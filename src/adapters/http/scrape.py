"""`GET /metrics`: the Prometheus text format, behind `BACKUP_METRICS_TOKEN` when it is set."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency

from adapters.http.errors import envelope
from adapters.http.metrics import MEDIA_TYPE
from adapters.http.services import ApiServices
from domain.errors import Unavailable

log = logging.getLogger(__name__)
METRICS_CHALLENGE = 'Bearer realm="backup-collect metrics"'


def bearer_matches(header: str | None, token: str) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time."""
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@get("/metrics", include_in_schema=False)
async def metrics(request: Request[Any, Any, Any], services: NamedDependency[ApiServices]) -> Response[Any]:
    """Every metric of this process; the stale-systems gauge is counted afresh by one query per scrape."""
    token = services.metrics_token
    if token is not None and not bearer_matches(request.headers.get("authorization"), token):
        return envelope(401, "invalid metrics token", {}, {"WWW-Authenticate": METRICS_CHALLENGE})
    try:
        services.metrics.set_stale_systems(await services.stale_systems())
    except Unavailable as exc:
        # The other metrics still tell the story (the database errors among them); the gauge keeps its last count.
        log.warning("stale systems not counted: %s", exc)
        services.metrics.dependency_error("database")
    return Response(services.metrics.render(), media_type=MEDIA_TYPE)
