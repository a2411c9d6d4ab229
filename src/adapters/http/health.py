"""Liveness and readiness."""

from __future__ import annotations

from litestar import Response, get

from adapters.http.answers import RETRY_AFTER
from adapters.http.drain import Drain
from adapters.http.dto import Envelope, Health, Readiness
from adapters.http.openapi import Documented, answer
from adapters.http.services import Service
from domain.errors import DomainError, StoreFull
from domain.ports import BackupCatalog, ObjectStore

HEALTH_PATH = "/api/health"
"""Answers even past the connection cap (`app.guard` lets it through)."""


@get(HEALTH_PATH, security=[])
async def health() -> Envelope[Health]:
    """200 while the process lives."""
    return Envelope(code=200, message="ok", data=Health(status="ok"))


@get(
    "/api/ready",
    security=[],
    operation_class=Documented,
    responses={503: answer(Readiness, "A dependency does not answer, or the server is shutting down")},
)
async def ready(
    catalog: Service[BackupCatalog], objects: Service[ObjectStore], drain: Service[Drain]
) -> Response[Envelope[Readiness]]:
    """200 when the database and the object store answer, else 503 naming which failed; an object
    store that answers but has no room left is `full` (still 200: downloads work)."""
    checks = {"database": catalog.ping, "object_store": objects.ping}
    data: dict[str, str] = {}  # encoded as Readiness: the same two keys
    for name, ping in checks.items():
        try:
            await ping()
        except StoreFull:
            data[name] = "full"  # downloads still work: ready, but say so
        except DomainError:
            data[name] = "error"
        else:
            data[name] = "ok"
    if drain.accepting and all(state in {"ok", "full"} for state in data.values()):
        return Response(Envelope(code=200, message="ready", data=Readiness(**data)))
    message = "not ready" if drain.accepting else "shutting down"
    return Response(
        Envelope(code=503, message=message, data=Readiness(**data)),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER)},
    )
