"""GET /metrics through real HTTP, where a socket or a real service is the point: a client hanging up
mid-body, the rate limiter failing open, the stale-systems count on SQLite. SPEC's names and outcomes, the
token and the other counts are pinned in process: tests/unit/test_metrics_http.py."""

from __future__ import annotations

from pathlib import Path

import httpx

from adapters.ratelimit.limits_adapter import LimitsRateLimiter
from adapters.runtime.clock import SystemClock
from app.composition import Overrides
from tests.integration.live import client, live_server, provision, raw_request, settings_for, wait_until
from tests.unit.fakes import pgp
from tests.unit.http_answers import Samples, dependency_errors, one, outcomes, samples_of

URL = "/api/systems/backups"


def scrape(server: str, token: str | None = None) -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return samples_of(httpx.get(server + "/metrics", headers=headers))


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
