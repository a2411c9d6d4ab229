"""Rate limits, quotas, suspension, health and unknown routes of the upload API, in process (Litestar's test
client on a `World`). What needs the socket, the SQLite file or the local files (a length refused before the
body is read, a chunked body crossing the cap, retention on disk, a dead database, a client hanging up) stays
in tests/integration/test_upload_limits_http.py."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from domain.model import Limits, NewSystem
from tests.unit.fakes import World, pgp

URL = "/api/systems/backups"
Client = AsyncTestClient[Litestar]
ROOMY = Limits(max_upload_size=1 << 20, max_per_system=100, max_size_per_system=1 << 20, max_size_per_org=0)


async def upload(http: Client, system: NewSystem, size: int = 100, **kw: Any) -> httpx.Response:
    return await http.post(URL, content=pgp(size), auth=(system.system_key, system.system_secret), **kw)


async def stored(world: World, system: NewSystem) -> int:
    who = await world.directory.authenticate(system.system_key, system.system_secret)
    assert who is not None
    return len(await world.catalog.stored_backups(who.system_id))


async def used_bytes(world: World, system: NewSystem) -> int:
    return (await world.catalog.org_usage(system.org_id)).used_bytes


def error_key(answer: httpx.Response) -> str:
    key: str = answer.json()["data"]["errors"][0]["key"]
    return key


async def test_the_seventh_upload_in_a_minute_is_429_and_not_stored() -> None:
    world = World(limits=ROOMY)
    (system,) = await world.tenant()
    async with world.async_client() as http:
        assert [(await upload(http, system)).status_code for _ in range(6)] == [201] * 6
        refused = await upload(http, system)
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert refused.json()["data"] == {"retry_after_seconds": retry_after}
    assert refused.json()["code"] == 429
    assert await stored(world, system) == 6
    assert len(await world.object_keys()) == 6


async def test_the_sixty_first_upload_in_an_hour_is_429() -> None:
    world = World(limits=ROOMY, windows={60: 0, 3600: 60})
    (system,) = await world.tenant()
    async with world.async_client() as http:
        assert [(await upload(http, system, 10)).status_code for _ in range(60)] == [201] * 60
        refused = await upload(http, system, 10)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600


async def test_refused_bodies_still_spend_rate_limit_slots() -> None:
    world = World()
    (system,) = await world.tenant()
    auth = (system.system_key, system.system_secret)
    async with world.async_client() as http:
        assert [(await http.post(URL, content=b"plain", auth=auth)).status_code for _ in range(6)] == [400] * 6
        assert (await upload(http, system)).status_code == 429


async def test_rate_limits_are_per_system() -> None:
    world = World(windows={60: 1, 3600: 0})
    first, second = await world.tenant(systems=2)
    async with world.async_client() as http:
        assert (await upload(http, first)).status_code == 201
        assert (await upload(http, first)).status_code == 429
        assert (await upload(http, second)).status_code == 201


def test_the_org_quota_is_413_across_its_systems_and_never_tells_the_usage() -> None:
    caps = Limits(max_upload_size=10_000, max_per_system=10, max_size_per_system=10_000, max_size_per_org=1000)
    world = World(limits=caps, windows={})
    first, second = asyncio.run(world.tenant(systems=2))
    # The sync client: Litestar's test transport streams a chunked body only from a plain iterator.
    with world.client() as http:
        assert http.post(URL, content=pgp(600), auth=(first.system_key, first.system_secret)).status_code == 201
        auth = (second.system_key, second.system_secret)
        refused = http.post(URL, content=pgp(500), auth=auth)
        streamed = http.post(URL, content=iter([pgp(300), pgp(200)]), auth=auth)  # chunked: no length
    for answer in (refused, streamed):
        assert answer.status_code == 413
        assert error_key(answer) == "org_quota"
        assert "600" not in answer.text
    assert asyncio.run(stored(world, second)) == 0
    assert asyncio.run(used_bytes(world, first)) == 600


async def test_an_org_rotating_near_its_quota_is_not_locked_out() -> None:
    caps = Limits(max_upload_size=10_000, max_per_system=3, max_size_per_system=10_000, max_size_per_org=0)
    world = World(limits=caps, windows={})
    (system,) = await world.tenant(quota=300)
    async with world.async_client() as http:
        assert [(await upload(http, system, 100)).status_code for _ in range(8)] == [201] * 8
    assert await used_bytes(world, system) == 300
    assert await stored(world, system) == 3


async def test_a_suspended_system_is_401() -> None:
    world = World()
    (system,) = await world.tenant()
    await world.directory.set_suspended(system.system_key, True)
    async with world.async_client() as http:
        answer = await upload(http, system)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="backup-collect", charset="UTF-8"'


async def test_health_and_ready_answer_in_the_envelope() -> None:
    async with World().async_client() as http:
        health = await http.get("/api/health")
        ready = await http.get("/api/ready")
    assert health.json() == {"code": 200, "message": "ok", "data": {"status": "ok"}}
    assert ready.status_code == 200
    assert ready.json()["data"] == {"database": "ok", "object_store": "ok"}


async def test_unknown_routes_answer_404_in_the_envelope() -> None:
    async with World().async_client() as http:
        for path in ("/api/nope", "/api/systems/backups/x/y"):
            answer = await http.get(path)
            assert answer.status_code == 404
            assert answer.json()["code"] == 404
