"""The container path: the PostgreSQL, Redis and S3 contract suites and the two-replica test, run once
against containers that testcontainers starts (`services.py`), with the fixtures of `tests/integration`
narrowed to those backends. Without a Docker engine (or its images), only `test_engine.py` is collected: one skip that
says so (under `CI=true`, a failure)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.objectstore.obstore_adapter import ObstoreObjectStore
from adapters.objectstore.urls import store_from_url
from domain.ports import ObjectStore
from tests.containers.services import postgres_container, redis_container, s3_container, unavailable
from tests.integration.conftest import (  # noqa: F401  (fixtures, shared with tests/integration)
    catalog,
    directory,
    ledger,
    limiters,
    maintenance,
    redis_url,
    s3_env,
)
from tests.integration.services import RedisService, S3Service

# The reaper's image comes from a registry; the fixtures remove every container themselves. (testcontainers
# reads this when the first container starts.)
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
GATE = "test_engine.py"


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    if collection_path.suffix == ".py" and collection_path.name.startswith("test_") and collection_path.name != GATE:
        return True if unavailable() else None
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_container() as url:
        yield url


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisService]:
    with redis_container() as url:
        yield RedisService(url)


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Service]:
    with s3_container() as service:
        yield service


@pytest.fixture(params=["postgresql"])
def ledger_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=["s3"])
def objects(s3: S3Service) -> ObjectStore:
    """A fresh prefix of the container's bucket."""
    return ObstoreObjectStore(store_from_url(s3.url(f"t-{secrets.token_hex(6)}"), env=s3.env))


@pytest.fixture(params=["redis"])
def limiter_backend(request: pytest.FixtureRequest) -> tuple[str, RedisService | None]:
    return request.param, request.getfixturevalue("redis")
