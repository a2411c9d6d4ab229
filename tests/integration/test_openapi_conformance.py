"""schemathesis against a real server's own OpenAPI document: every answer it gives to generated requests
has a documented status, content type, headers and body shape. Bounded: a few examples per operation."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from tests.integration.live import live_server, provision, settings_for

ADMIN_TOKEN = "conformance-admin-0123456789abcdef0123"
METRICS_TOKEN = "conformance-metrics-0123456789abcdef01"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    data = tmp_path_factory.mktemp("conformance")
    config = settings_for(
        Path(data),
        admin_token=ADMIN_TOKEN,
        metrics_token=METRICS_TOKEN,
        rate_limit_per_minute="0",
        rate_limit_per_hour="0",
        max_upload_size="64KiB",
    )
    tenant = provision(config)[0]
    basic = "Basic " + base64.b64encode(f"{tenant.key}:{tenant.secret}".encode()).decode()
    with live_server(config) as url:
        yield url, {"basic": basic, "bearer": f"Bearer {ADMIN_TOKEN}", "metrics": f"Bearer {METRICS_TOKEN}"}


def conforms(operation: Any, url: str, headers: dict[str, str]) -> None:
    """A few generated requests to one operation; each answer must match what the document says."""

    @given(case=operation.as_strategy())
    @settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def answers(case: Any) -> None:
        case.call_and_validate(base_url=url, headers=headers, checks=CHECKS, timeout=30)

    answers()


def test_every_answer_conforms_to_the_document(served: tuple[str, dict[str, str]]) -> None:
    url, credentials = served
    api = schemathesis.openapi.from_url(f"{url}/api/schema/openapi.json")
    operations = []
    for result in api.get_all_operations():
        assert isinstance(result, Ok), result  # every operation of the document can be read
        operations.append(result.ok())
    assert len(operations) >= 20
    for operation in operations:
        security = operation.definition.raw.get("security") or [{}]
        scheme = next(iter(security[0]), None)
        conforms(operation, url, {"Authorization": credentials[scheme]} if scheme else {})
