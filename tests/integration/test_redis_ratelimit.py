"""Redis beyond the contract: windows shared by replicas, and what happens when Redis is gone."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from adapters.ratelimit.limits_adapter import LimitsRateLimiter
from adapters.runtime.clock import SystemClock
from domain.ports import Allowed, Denied
from tests.integration.live import client, live_server, provision, settings_for, stored
from tests.integration.services import RedisService
from tests.unit.fakes import pgp

LOGGER = "adapters.ratelimit.limits_adapter"


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A port that accepts connections and never answers, like a wedged Redis."""
    with closing(socket.socket()) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


async def test_replicas_share_the_windows(redis: RedisService) -> None:
    one, two = (
        LimitsRateLimiter(redis.url, 6, 60, clock=SystemClock()),
        LimitsRateLimiter(redis.url, 6, 60, clock=SystemClock()),
    )
    key = redis.key()
    try:
        for limiter in (one, two, one, two, one, two):
            assert await limiter.acquire(key) == Allowed()
        for limiter in (one, two):
            denied = await limiter.acquire(key)
            assert isinstance(denied, Denied)
            assert 1 <= denied.retry_after <= 60
        assert await one.ping()
    finally:
        await one.aclose()
        await two.aclose()


async def test_replicas_racing_for_the_last_slots_spend_exactly_what_the_windows_allow(redis: RedisService) -> None:
    """Both windows are tested and spent in one atomic step: a racing denial never spends a slot."""
    replicas = [LimitsRateLimiter(redis.url, 5, 7, clock=SystemClock()) for _ in range(4)]
    key = redis.key()
    try:
        answers = await asyncio.gather(*(replicas[n % 4].acquire(key) for n in range(24)))
        assert answers.count(Allowed()) == 5  # the minute's five; the hour kept two slots
        assert all(isinstance(a, Denied) and 1 <= a.retry_after <= 60 for a in answers if a != Allowed()), answers
    finally:
        for limiter in replicas:
            await limiter.aclose()


@pytest.mark.parametrize("where", ["refused", "silent"])
async def test_an_unreachable_redis_lets_uploads_through_with_a_warning(
    where: str, silent_redis: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = silent_redis if where == "silent" else "redis://127.0.0.1:1/0"
    attempts = 3
    limiter = LimitsRateLimiter(url, 1, 1, clock=SystemClock(), timeout=0.25)
    started = time.monotonic()
    try:
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            for _ in range(attempts - 1):
                assert await limiter.acquire("fw-1") == Allowed()
            # Asking without spending fails open too (the operator guards' `check`).
            assert await limiter.check("fw-1") == Allowed()
    finally:
        await limiter.aclose()
    assert limiter.storage_failures == attempts
    assert time.monotonic() - started < attempts * 2 * 0.25 + 1
    warnings = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
    assert len(warnings) == attempts
    assert "allowing fw-1 unlimited" in warnings[0].getMessage()


class Recorded(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_uploads_succeed_over_http_while_redis_is_down(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, rate_limit_storage_url="redis://127.0.0.1:1/0", rate_limit_per_minute="1")
    tenant = provision(settings)[0]
    # Our own handler on the adapter's logger: the app's logging configuration replaces caplog's.
    recorded = Recorded()
    logging.getLogger(LOGGER).addHandler(recorded)
    try:
        with live_server(settings) as server, client(server, tenant) as http:
            answers = [http.post("/api/systems/backups", content=pgp(100)).status_code for _ in range(3)]
    finally:
        logging.getLogger(LOGGER).removeHandler(recorded)
    assert answers == [201, 201, 201]
    assert len(stored(settings, tenant)) == 3
    assert [r.getMessage().split(";")[0] for r in recorded.records] == [
        "rate-limit storage failed (ConnectionError: [Errno 111] Connection refused)"
    ] * 3


async def test_replicas_share_failed_sign_ins_and_sign_outs_in_namespaces_of_their_own(
    redis: RedisService, tmp_path: Path
) -> None:
    from adapters.http.console.session import Session, SignOuts
    from app.composition import build
    from domain.errors import RateLimited

    settings = settings_for(tmp_path, rate_limit_storage_url=redis.url)
    one, two = build(settings), build(settings)
    client, session = redis.key(), Session(sid=redis.key(), started=0, expires=0)
    try:
        for replica in (one, two) * 5:
            await replica.attempts.admit(client)
            await replica.attempts.failed(client)
        with pytest.raises(RateLimited):
            await two.attempts.failed(client)
        with pytest.raises(RateLimited):
            await one.attempts.admit(client)
        # The upload windows of a system named like that client are untouched.
        assert await one.limiter.check(client) == Allowed()
        assert not await SignOuts(two.signed_out).signed_out(session)
        await SignOuts(one.signed_out).sign_out(session)
        assert await SignOuts(two.signed_out).signed_out(session)
    finally:
        await one.close()
        await two.close()
