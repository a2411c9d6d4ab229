"""The Litestar application of the HTTP adapter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from litestar import Litestar
from litestar.di import Provide

from adapters.http import transparency
from adapters.http.admin import admin_router
from adapters.http.backups import BACKUPS_PATH, upload_backup
from adapters.http.console import SECURITY_HEADERS, console_router, console_templates
from adapters.http.console.auth import CONSOLE_PATH
from adapters.http.drain import Drain
from adapters.http.edge import Edge, allowed_methods
from adapters.http.errors import EXCEPTION_HANDLERS
from adapters.http.health import health, ready
from adapters.http.observe import Observe
from adapters.http.openapi import docs_assets, docs_redirect, openapi_config
from adapters.http.restore import delete_backup, download_backup, list_backups
from adapters.http.scrape import metrics_route
from adapters.http.services import API_SERVICES, ApiServices
from adapters.http.status import system_status


def create_litestar(
    services: ApiServices,
    admin_token: str | None = None,
    metrics_token: str | None = None,
    lifespan: Sequence[Callable[[Litestar], AbstractAsyncContextManager[Any]]] = (),
) -> Litestar:
    """The application; `app.state.drain` is the upload drain the server closes on SIGTERM. Every member
    of `ApiServices` is offered as a dependency of its name; /console is there when `services.console` is."""
    drain = Drain()
    provided: dict[str, object] = {name: getattr(services, name) for name in API_SERVICES}
    provided.update(metrics_token=metrics_token, drain=drain)
    app = Litestar(
        route_handlers=[
            upload_backup,
            list_backups,
            download_backup,
            delete_backup,
            system_status,
            health,
            ready,
            *transparency.ROUTES,
            metrics_route(metrics_token is not None),
            docs_assets(),
            docs_redirect,
            # Off (404 for everything, and out of the OpenAPI document) unless a token is configured.
            *([admin_router(admin_token, services.attempts)] if admin_token is not None else []),
            *([console_router(services.console)] if services.console is not None else []),
        ],
        template_config=console_templates(),
        dependencies={name: _constant(value) for name, value in provided.items()},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=list(lifespan),
        # Logging is the process's business (app.logs), not the framework's: no handlers of its own.
        logging_config=None,
        openapi_config=openapi_config(metrics_token is not None),
    )
    # Around the router and its exception handling, so every request is seen, unknown routes included.
    console_headers = {CONSOLE_PATH: SECURITY_HEADERS} if services.console is not None else {}
    edge = Edge(app.asgi_handler, allowed_methods(app.routes), console_headers)
    app.asgi_handler = Observe(edge, services.metrics, BACKUPS_PATH)
    services.metrics.track_inflight(lambda: drain.inflight)
    app.state.drain = drain
    return app


def _constant(value: object) -> Provide:
    """A dependency that is always `value` (built once, by the composition root)."""

    def provide() -> object:
        return value

    return Provide(provide, sync_to_thread=False, use_cache=True)
