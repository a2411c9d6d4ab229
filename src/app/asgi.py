"""The ASGI application factory."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from adapters.http.api import create_litestar
from app.composition import Overrides, build
from app.container import Container
from app.settings import Settings
from app.workers import WorkerRunner
from domain.errors import DomainError

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
        try:
            await container.objects.ping()
        except DomainError as exc:
            # Not fatal (the store may come up later; /api/ready says 503 meanwhile), but say why now.
            log.warning("the object store does not answer (%s): uploads get 503 until it does", exc)
        for line in container.settings.deprecated:
            log.warning("%s", line)
        if container.settings.max_size_per_org == 0:
            log.warning("BACKUP_MAX_SIZE_PER_ORG=0: organizations without their own quota are unlimited")
        workers = WorkerRunner(container.workers, container.leases)
        workers.start()
        try:
            yield
        finally:
            await workers.stop()
            await container.close()

    settings = container.settings
    return create_litestar(
        container,
        admin_token=settings.admin_token,
        metrics_token=settings.metrics_token,
        lifespan=[lifespan],
    )
