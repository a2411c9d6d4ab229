"""Restore through HTTP in process (Litestar's test client on a `World`): ranges, download names, 404 never
403, malformed ids, credentials, append-only. The end-to-end restore of a large backup on local files and
the usage a delete frees on SQLite stay in tests/integration/test_restore_http.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from domain.model import NewSystem
from tests.unit.fakes import World, pgp
from tests.unit.http_answers import store

URL = "/api/systems/backups"
MISSING_ID = "01900000-0000-7000-8000-000000000000.tar.gz"


@dataclass
class Site:
    http: TestClient[Litestar]
    systems: list[NewSystem]

    @contextmanager
    def as_(self, which: int) -> Iterator[TestClient[Litestar]]:
        """The client, speaking with the credentials of system `which` until the block ends."""
        system = self.systems[which]
        self.http.auth = httpx.BasicAuth(system.system_key, system.system_secret)
        try:
            yield self.http
        finally:
            self.http.auth = httpx.Auth()  # no credentials


def site_of(world: World) -> Iterator[Site]:
    systems = asyncio.run(world.tenant(systems=2))
    with world.client() as http:
        yield Site(http, systems)


@pytest.fixture
def site() -> Iterator[Site]:
    yield from site_of(World(windows={}))


def test_an_unsatisfiable_range_is_416_with_the_size(site: Site) -> None:
    with site.as_(0) as http:
        backup_id = store(http, pgp(1000))
        for header in ("bytes=1000-", "bytes=5000-6000", "bytes=-0"):
            answer = http.get(f"{URL}/{backup_id}", headers={"Range": header})
            assert answer.status_code == 416, header
            assert answer.headers["Content-Range"] == "bytes */1000"
            assert answer.json()["code"] == 416


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-5", "bytes=9-2", "bytes=abc"])
def test_ranges_it_does_not_serve_get_the_whole_backup(site: Site, header: str) -> None:
    body = pgp(1000)
    with site.as_(0) as http:
        answer = http.get(f"{URL}/{store(http, body)}", headers={"Range": header})
        assert answer.status_code == 200
        assert answer.content == body


def test_an_if_range_for_another_version_gets_the_whole_backup(site: Site) -> None:
    body = pgp(1000)
    with site.as_(0) as http:
        answer = http.get(f"{URL}/{store(http, body)}", headers={"Range": "bytes=0-9", "If-Range": '"other"'})
        assert answer.status_code == 200
        assert answer.content == body


@pytest.mark.parametrize(
    ("name", "download"),
    [("cfg.tar.gz.ASC", "cfg.tar.gz.ASC"), ("cfg.xml.pgp", "cfg.xml.pgp"), ("cfg.json", "cfg.json.gpg")],
)
def test_the_download_name_keeps_the_envelope_it_arrived_with(site: Site, name: str, download: str) -> None:
    with site.as_(0) as http:
        answer = http.get(f"{URL}/{store(http, pgp(100), name)}")
        assert answer.headers["Content-Disposition"] == f'attachment; filename="{download}"'


def test_a_backup_without_a_name_downloads_as_backup_uuid_gpg(site: Site) -> None:
    with site.as_(0) as http:
        backup_id = store(http, pgp(100), None)
        disposition = http.get(f"{URL}/{backup_id}").headers["Content-Disposition"]
        assert disposition == f'attachment; filename="backup-{backup_id.removesuffix(".bin")}.gpg"'


def test_another_systems_or_an_unknown_id_is_404_never_403(site: Site) -> None:
    with site.as_(0) as http:
        backup_id = store(http, pgp(100))
    with site.as_(1) as http:
        assert http.get(f"{URL}/{backup_id}").status_code == 404
        assert http.delete(f"{URL}/{backup_id}").status_code == 404
        assert http.get(URL).json()["data"]["backups"] == []
        assert http.get(f"{URL}/{MISSING_ID}").status_code == 404
        assert http.delete(f"{URL}/{MISSING_ID}").json() == {
            "code": 404,
            "message": f"backup {MISSING_ID} not found",
            "data": None,
        }
    with site.as_(0) as http:
        assert http.get(f"{URL}/{backup_id}").status_code == 200


@pytest.mark.parametrize(
    "bad",
    [
        "not-an-id",
        "01900000-0000-4000-8000-000000000000.tar.gz",  # a UUIDv4
        "01900000-0000-7000-8000-000000000000.exe",  # not an allowlisted extension
        "01900000-0000-7000-8000-000000000000",
        "x y.tar.gz",
        "...tar.gz",
        "01900000-0000-7000-8000-000000000000.TAR.GZ",
    ],
)
def test_a_malformed_id_is_400(site: Site, bad: str) -> None:
    with site.as_(0) as http:
        for answer in (http.get(f"{URL}/{bad}"), http.delete(f"{URL}/{bad}")):
            assert answer.status_code == 400, bad
            assert answer.json()["data"]["errors"][0]["key"] == "id"


def test_restore_routes_need_credentials(site: Site) -> None:
    with site.as_(0) as http:
        backup_id = store(http, pgp(100))
    for method, path in (("GET", URL), ("GET", f"{URL}/{backup_id}"), ("DELETE", f"{URL}/{backup_id}")):
        answer = site.http.request(method, path, auth=(site.systems[0].system_key, "wrong"))
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_append_only_refuses_appliance_deletes_with_403() -> None:
    world = World(windows={}, append_only=True)
    for site in site_of(world):
        with site.as_(0) as http:
            backup_id = store(http, pgp(100))
            answer = http.delete(f"{URL}/{backup_id}")
            assert answer.status_code == 403
            assert answer.json()["code"] == 403
            assert http.get(f"{URL}/{backup_id}").status_code == 200
        assert len(asyncio.run(world.object_keys())) == 1
