"""Nothing a stranger sends gets a 5xx: schemathesis against a real server's own OpenAPI document, with no
credentials, with an appliance's Basic credentials and with the admin token, valid and invalid requests alike.

Bounded: BACKUP_FUZZ_EXAMPLES generated requests per operation, mode and kind (default 2; `just fuzz` runs more).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from tests.integration.live import live_server, provision, settings_for
from tests.unit.fakes import pgp

ADMIN_TOKEN = "fuzz-admin-token-0123456789abcdef0123"
EXAMPLES = int(os.environ.get("BACKUP_FUZZ_EXAMPLES", "2"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    config = settings_for(
        Path(tmp_path_factory.mktemp("fuzz")),
        admin_token=ADMIN_TOKEN,
        rate_limit_per_minute="0",
        rate_limit_per_hour="0",
        max_upload_size="64KiB",
    )
    tenant = provision(config)[0]
    basic = "Basic " + base64.b64encode(f"{tenant.key}:{tenant.secret}".encode()).decode()
    with live_server(config) as url:
        assert httpx.post(url + "/api/systems/backups", content=pgp(100), auth=tenant.auth).status_code == 201
        modes = {
            "anonymous": {},
            "basic": {"Authorization": basic},
            "admin": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
        }
        yield url, modes


def operations(url: str) -> list[Any]:
    api = schemathesis.openapi.from_url(f"{url}/api/schema/openapi.json")
    found = []
    for result in api.get_all_operations():
        assert isinstance(result, Ok), result
        found.append(result.ok())
    return found


def no_server_error(operation: Any, mode: GenerationMode, url: str, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def answers(case: Any) -> None:
        case.call_and_validate(base_url=url, headers=headers, checks=[not_a_server_error], timeout=30)

    try:
        answers()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise  # an operation without anything to make invalid has no negative cases


@pytest.mark.parametrize("credentials", ["anonymous", "basic", "admin"])
def test_no_generated_request_gets_a_server_error(
    served: tuple[str, dict[str, dict[str, str]]], credentials: str
) -> None:
    url, modes = served
    found = operations(url)
    assert len(found) >= 20
    for operation in found:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            no_server_error(operation, mode, url, modes[credentials])
    assert httpx.get(url + "/api/health").status_code == 200
