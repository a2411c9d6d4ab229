"""GET /metrics through real HTTP, where a socket or a real service is the point: a client hanging up
mid-body, the rate limiter failing open, the stale-systems count on SQLite. SPEC's names and outcomes, the
token and the other counts are pinned in process: tests/unit/test_metrics_http.py."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from adapters.ratelimit.limits_adapter import LimitsRateLimiter
from adapters.runtime.clock import SystemClock
from app.composition import Overrides
from tests.integration.live import client, live_server, provision, raw_request, settings_for, wait_until
from tests.unit.fakes import pgp

URL = "/api/systems/backups"
OUTCOMES = {
    "stored",
    "duplicate",
    "replayed",
    "unauthorized",
    "too_large",
    "rate_limited",
    "quota",
    "invalid",
    "unavailable",
    "aborted",
}


def scrape(server: str, token: str | None = None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx.get(server + "/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def outcomes(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[str, float]:
    return {
        dict(labels)["outcome"]: value
        for (name, labels), value in samples.items()
        if name == "backup_collect_uploads_total"
    }


def dependency_errors(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[str, float]:
    return {
        dict(labels)["dependency"]: value
        for (name, labels), value in samples.items()
        if name == "backup_collect_dependency_errors_total"
    }


def one(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> float:
    return samples[(name, ())]


def test_a_client_gone_mid_body_is_aborted(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    tenant = provision(settings)[0]
    head = (
        f"POST {URL} HTTP/1.1\r\nHost: t\r\nAuthorization: " + tenant.basic + "\r\nContent-Length: 10000000\r\n\r\n"
    ).encode()
    with live_server(settings) as server:
        raw_request(server, head, [pgp(2 * 1024 * 1024)], close_early=True)
        wait_until(lambda: outcomes(scrape(server))["aborted"] == 1)
        assert one(scrape(server), "backup_collect_uploads_in_flight") == 0


def test_a_rate_limit_storage_that_fails_open_is_counted(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    tenant = provision(settings)[0]
    # Nothing listens on port 9: every acquire fails, and the upload goes ahead unlimited.
    overrides = Overrides(limiter=LimitsRateLimiter("redis://127.0.0.1:9/0", 6, 60, clock=SystemClock()))
    with live_server(settings, overrides) as server, client(server, tenant) as http:
        assert http.post(URL, content=pgp(1000)).status_code == 201
        samples = scrape(server)
    assert dependency_errors(samples)["rate_limit"] == 1
    assert outcomes(samples)["stored"] == 1
