"""The RateLimiter contract: in memory, on `limits` in process memory (the default) and on Redis."""

from __future__ import annotations

import pytest

from domain.ports import Allowed, Denied, RateLimiter
from tests.integration.services import Limiters


async def spend(limiter: RateLimiter, key: str, times: int) -> None:
    for attempt in range(times):
        assert await limiter.acquire(key) == Allowed(), f"attempt {attempt + 1} of {times}"


async def test_the_seventh_upload_in_a_minute_is_denied_for_at_most_a_minute(limiters: Limiters) -> None:
    limiter, key = limiters.make(6, 60), limiters.key()
    await spend(limiter, key, 6)
    denied = await limiter.acquire(key)
    assert isinstance(denied, Denied)
    assert 1 <= denied.retry_after <= 60


async def test_retry_after_counts_down_to_when_the_oldest_slot_frees(limiters: Limiters) -> None:
    limiter, key = limiters.make(6, 60), limiters.key()
    await spend(limiter, key, 6)
    limiters.time.advance(30)
    denied = await limiter.acquire(key)
    assert isinstance(denied, Denied)
    assert 29 <= denied.retry_after <= 31
    limiters.time.advance(denied.retry_after - 1)
    assert isinstance(await limiter.acquire(key), Denied)
    # Past the instant itself: `limits` counts a hit exactly 60 s old as inside the window, the
    # in-memory limiter as outside; real clocks never land on that instant.
    limiters.time.advance(1.001)
    assert await limiter.acquire(key) == Allowed()


async def test_a_slot_frees_once_the_minute_has_passed(limiters: Limiters) -> None:
    limiter, key = limiters.make(2, 60), limiters.key()
    await spend(limiter, key, 2)
    assert isinstance(await limiter.acquire(key), Denied)
    limiters.time.advance(61)
    await spend(limiter, key, 2)
    assert isinstance(await limiter.acquire(key), Denied)


async def test_the_hour_window_holds_when_the_minute_has_room(limiters: Limiters) -> None:
    limiter, key = limiters.make(6, 10), limiters.key()
    for _ in range(2):
        await spend(limiter, key, 5)
        limiters.time.advance(61)
    denied = await limiter.acquire(key)
    assert isinstance(denied, Denied)
    # The oldest hit is 122 s old, so the hour frees in about 3478 s.
    assert 3470 <= denied.retry_after <= 3480


async def test_a_denial_spends_no_slot_in_any_window(limiters: Limiters) -> None:
    limiter, key = limiters.make(1, 3), limiters.key()
    await spend(limiter, key, 1)
    # Denied by the minute window many times: had any attempt spent an hour slot, the hour would be full.
    for _ in range(5):
        assert isinstance(await limiter.acquire(key), Denied)
    limiters.time.advance(61)
    await spend(limiter, key, 1)
    limiters.time.advance(61)
    await spend(limiter, key, 1)
    # Now the hour really is full (3 hits), though the minute has room.
    limiters.time.advance(61)
    denied = await limiter.acquire(key)
    assert isinstance(denied, Denied)
    assert denied.retry_after > 60


async def test_systems_are_limited_independently(limiters: Limiters) -> None:
    limiter, busy, quiet = limiters.make(6, 60), limiters.key(), limiters.key()
    await spend(limiter, busy, 6)
    assert isinstance(await limiter.acquire(busy), Denied)
    await spend(limiter, quiet, 6)


@pytest.mark.parametrize(("per_minute", "per_hour", "allowed"), [(0, 8, 8), (3, 0, 3)])
async def test_zero_disables_that_window_only(limiters: Limiters, per_minute: int, per_hour: int, allowed: int) -> None:
    limiter, key = limiters.make(per_minute, per_hour), limiters.key()
    await spend(limiter, key, allowed)
    assert isinstance(await limiter.acquire(key), Denied)


async def test_both_windows_at_zero_never_deny(limiters: Limiters) -> None:
    limiter, key = limiters.make(0, 0), limiters.key()
    await spend(limiter, key, 100)


async def test_check_answers_as_acquire_would_and_spends_nothing(limiters: Limiters) -> None:
    limiter, key = limiters.make(2, 60), limiters.key()
    for _ in range(5):
        assert await limiter.check(key) == Allowed()
    await spend(limiter, key, 2)
    denied = await limiter.check(key)
    assert isinstance(denied, Denied)
    assert 1 <= denied.retry_after <= 60
    assert isinstance(await limiter.acquire(key), Denied)
    limiters.time.advance(61)
    assert await limiter.check(key) == Allowed()
    await spend(limiter, key, 2)


async def test_check_of_an_unused_key_or_with_no_window_is_allowed(limiters: Limiters) -> None:
    assert await limiters.make(1, 1).check(limiters.key()) == Allowed()
    limiter, key = limiters.make(0, 0), limiters.key()
    await spend(limiter, key, 3)
    assert await limiter.check(key) == Allowed()


async def test_a_sign_out_window_of_one_hit_in_8_hours_holds_until_it_ends(limiters: Limiters) -> None:
    """How console sign-outs are remembered: one hit per session id, for a session's longest life."""
    limiter, sid = limiters.windows({8 * 3600: 1}, "signed-out"), limiters.key()
    assert await limiter.check(sid) == Allowed()
    assert await limiter.acquire(sid) == Allowed()
    limiters.time.advance(7 * 3600)
    denied = await limiter.check(sid)
    assert isinstance(denied, Denied)
    assert 3590 <= denied.retry_after <= 3610
    limiters.time.advance(3601)
    assert await limiter.check(sid) == Allowed()


async def test_namespaces_keep_limiters_on_one_storage_apart(limiters: Limiters) -> None:
    failures, uploads, key = limiters.windows({60: 2}, "failed-secrets"), limiters.make(2, 0), limiters.key()
    await spend(failures, key, 2)
    assert isinstance(await failures.check(key), Denied)
    assert await uploads.check(key) == Allowed()
    await spend(uploads, key, 2)
