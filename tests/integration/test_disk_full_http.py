"""A full disk under the local file store, through real HTTP: 503 naming it, nothing left, downloads work."""

from __future__ import annotations

import errno
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import obstore
import pytest

from adapters.objectstore.disk import Disk
from adapters.objectstore.file_store import FileObjectStore
from adapters.objectstore.obstore_adapter import _guarded
from app.composition import Overrides
from app.settings import Settings
from domain.errors import StoreFull, StoreUnavailable
from tests.integration.live import Tenant, live_server, object_files, provision, rows_by_state, settings_for
from tests.unit.fakes import pgp

URL = "/api/systems/backups"


class FillingDisk(Disk):
    """A real disk with `room` bytes left: past them every write fails as a full file system does."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    def write(self, fd: int, parts: Sequence[bytes], offset: int) -> int:
        size = sum(len(part) for part in parts)
        if size > self.room:
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= size
        return super().write(fd, parts, offset)

    def free_bytes(self, directory: Path) -> int:  # noqa: ARG002 - the room is the test's to set
        return self.room


@dataclass
class Site:
    url: str
    settings: Settings
    tenant: Tenant
    disk: FillingDisk


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    settings = settings_for(tmp_path, rate_limit_per_minute="0", rate_limit_per_hour="0")
    tenant = provision(settings)[0]
    disk = FillingDisk(room=64 * 1024 * 1024)
    store = FileObjectStore(Path(settings.storage_url.removeprefix("file://")), disk=disk)
    with live_server(settings, Overrides(objects=store)) as url:
        yield Site(url, settings, tenant, disk)


def test_a_body_the_disk_has_no_room_for_is_503_naming_the_cause_and_leaves_nothing(site: Site) -> None:
    kept = pgp(1000)
    first = httpx.post(site.url + URL, content=kept, auth=site.tenant.auth, timeout=30)
    assert first.status_code == 201
    assert httpx.get(site.url + "/api/ready").json()["data"]["object_store"] == "ok"
    site.disk.room = 2 * 1024 * 1024

    refused = httpx.post(site.url + URL, content=pgp(16 * 1024 * 1024), auth=site.tenant.auth, timeout=30)
    assert refused.status_code == 503
    assert refused.json()["message"] == "no space left in the object store"
    assert refused.json()["data"]["retry_after_seconds"] == 30
    assert refused.headers["Retry-After"] == "30"
    assert rows_by_state(site.settings) == {"stored": 1}
    assert [p.stat().st_size for p in object_files(site.settings)] == [len(kept)]

    ready = httpx.get(site.url + "/api/ready")
    assert ready.status_code == 200  # downloads still work
    assert ready.json()["data"] == {"database": "ok", "object_store": "full"}
    download = httpx.get(f"{site.url}{URL}/{first.json()['data']['id']}", auth=site.tenant.auth)
    assert download.status_code == 200
    assert download.content == kept


@pytest.mark.parametrize(
    "message",
    [
        "EntityTooLarge: Your proposed upload exceeds the maximum allowed object size.",
        "QuotaExceeded: bucket quota exceeded",
        "XMinioStorageFull: Storage backend has reached its minimum free drive threshold.",
        "Server returned 507 InsufficientStorage",
    ],
)
async def test_s3_answers_that_say_no_room_are_store_full(message: str) -> None:
    async def refuse() -> None:
        raise obstore.exceptions.GenericError(message)

    with pytest.raises(StoreFull):
        await _guarded(refuse)


async def test_other_s3_failures_stay_unavailable() -> None:
    async def refuse() -> None:
        raise obstore.exceptions.GenericError("connection refused")

    with pytest.raises(StoreUnavailable) as caught:
        await _guarded(refuse)
    assert not isinstance(caught.value, StoreFull)
