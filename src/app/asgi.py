"""The ASGI application factory."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from adapters.http.api import create_litestar
from adapters.http.services import ApiServices
from app.composition import Container, Overrides, build
from app.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, overrides: Overrides | None = None) -> Litestar:
    """Build the service from `settings` (default: the environment), with optional overrides."""
    settings = settings or Settings.from_env(os.environ)
    container = build(settings, overrides)
    return app_for(container)


def app_for(container: Container) -> Litestar:
    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await container.start()
        if container.settings.max_size_per_org == 0:
            log.warning("BACKUP_MAX_SIZE_PER_ORG=0: organizations without their own quota are unlimited")
        try:
            yield
        finally:
            await container.close()

    services = ApiServices(
        directory=container.directory,
        catalog=container.catalog,
        objects=container.objects,
        ingest=container.ingest,
    )
    return create_litestar(services, lifespan=[lifespan])
