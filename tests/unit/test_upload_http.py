"""The upload's refusals through HTTP in process (Litestar's test client on a `World`): credentials, empty
and non-OpenPGP bodies, armor, the OpenPGP switch, UTF-8 names. The seed example stored on local files, a
chunked upload over a real socket and readiness with the object directory gone stay in
tests/integration/test_upload_http.py."""

from __future__ import annotations

import asyncio
import base64
import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from domain.model import Limits, NewSystem
from tests.unit.fakes import World, pgp

URL = "/api/systems/backups"


@dataclass
class Site:
    world: World
    http: TestClient[Litestar]
    system: NewSystem

    @contextmanager
    def signed_in(self) -> Iterator[TestClient[Litestar]]:
        """The client with the system's credentials until the block ends."""
        self.http.auth = httpx.BasicAuth(self.system.system_key, self.system.system_secret)
        try:
            yield self.http
        finally:
            self.http.auth = httpx.Auth()  # no credentials

    def object_keys(self) -> list[str]:
        return asyncio.run(self.world.object_keys())

    def stored(self) -> int:
        async def count() -> int:
            who = await self.world.directory.authenticate(self.system.system_key, self.system.system_secret)
            assert who is not None
            return len(await self.world.catalog.stored_backups(who.system_id))

        return asyncio.run(count())


def site_of(world: World) -> Iterator[Site]:
    (system,) = asyncio.run(world.tenant())
    with world.client() as http:
        yield Site(world, http, system)


@pytest.fixture
def site() -> Iterator[Site]:
    yield from site_of(World(windows={}))


def chunked(*parts: bytes) -> Iterator[bytes]:
    yield from parts


def basic(value: str) -> str:
    return "Basic " + base64.b64encode(value.encode()).decode()


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer abc", "Basic !!!notbase64", "Basic " + base64.b64encode(b"no-colon").decode(), "wrong-secret"],
)
def test_bad_credentials_are_401_with_a_basic_challenge(site: Site, authorization: str | None) -> None:
    system = site.system
    headers = {}
    if authorization == "wrong-secret":
        headers["Authorization"] = basic(f"{system.system_key}:{system.system_secret}x")
    elif authorization is not None:
        headers["Authorization"] = authorization
    answer = site.http.post(URL, content=pgp(100), headers=headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert answer.json() == {"code": 401, "message": "invalid credentials", "data": {}}
    assert site.object_keys() == []


def test_unknown_system_is_401(site: Site) -> None:
    answer = site.http.post(URL, content=pgp(100), auth=("nobody", "secret"))
    assert answer.status_code == 401


def validation_error(answer: httpx.Response, status: int, key: str) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    envelope = answer.json()
    assert envelope["code"] == status
    data = envelope["data"]
    assert data["type"] == "validation_error"
    assert [error["key"] for error in data["errors"]] == [key]
    assert set(data["errors"][0]) == {"key", "message", "value"}
    assert "details" in data
    result: dict[str, object] = data
    return result


def test_empty_body_is_400(site: Site) -> None:
    with site.signed_in() as http:
        validation_error(http.post(URL, content=b""), 400, "body")
        validation_error(http.post(URL, content=chunked(b"")), 400, "body")
    assert site.stored() == 0


@pytest.mark.parametrize("body", [gzip.compress(b"hostname fw1\n" * 100), b"plain text config", b"PK\x03\x04zip"])
def test_a_body_that_is_not_openpgp_is_400(site: Site, body: bytes) -> None:
    with site.signed_in() as http:
        validation_error(http.post(URL, content=body), 400, "body")
    assert site.object_keys() == []
    assert site.stored() == 0


def test_armored_messages_are_accepted(site: Site) -> None:
    body = b"\n-----BEGIN PGP MESSAGE-----\n\nhQEMA1234\n-----END PGP MESSAGE-----\n"
    with site.signed_in() as http:
        assert http.post(URL, content=body, headers={"X-Filename": "cfg.txt.asc"}).status_code == 201


def test_openpgp_check_can_be_turned_off() -> None:
    caps = Limits(max_upload_size=10_000, max_per_system=3, max_size_per_system=10_000, max_size_per_org=0)
    for site in site_of(World(limits=replace(caps, require_openpgp=False), windows={})):
        with site.signed_in() as http:
            assert http.post(URL, content=b"plain text").status_code == 201


def test_a_utf8_filename_counts_each_character_once(site: Site) -> None:
    with site.signed_in() as http:
        answer = http.post(URL, content=pgp(100), headers={b"X-Filename": "ä-config.yml.gpg".encode()})
    assert answer.json()["data"]["filename"] == "_-config.yml"
    assert answer.json()["data"]["mimetype"] == "application/yaml"
