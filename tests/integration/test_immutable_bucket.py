"""An immutable bucket: SeaweedFS with versioning and an Object Lock COMPLIANCE default retention. Uploads
(multipart too), retention's prunes, deletes by the appliance and the operator, fsck (with its repairs) and
the reaper all work, with no 5xx: a delete leaves a delete marker while the locked version stays, which
an operator can still copy back (as docs/retention.md shows)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from uuid6 import uuid7

from adapters.memory.clock import FrozenClock
from adapters.objectstore.obstore_adapter import ObstoreObjectStore
from adapters.objectstore.urls import store_from_url
from app.composition import Overrides, build
from app.settings import Settings
from domain.model import Backup, BackupState
from domain.reaper import Reaper
from tests.integration.live import live_server, settings_for
from tests.integration.services import S3Service
from tests.unit.fakes import chunks, pgp

TOKEN = "s3cret-admin-token-0123456789abcdef0123"
UPLOAD = "/api/systems/backups"


@dataclass
class Locked:
    s3: S3Service
    bucket: str
    prefix: str
    settings: Settings

    def store(self) -> ObstoreObjectStore:
        return ObstoreObjectStore(store_from_url(f"s3://{self.bucket}/{self.prefix}", env=self.s3.env))

    def overrides(self, clock: FrozenClock | None = None) -> Overrides:
        return Overrides(objects=self.store(), clock=clock)

    def current_keys(self) -> list[str]:
        listed = self.s3.client().list_objects_v2(Bucket=self.bucket, Prefix=self.prefix + "/")
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def versions(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        listed = self.s3.client().list_object_versions(Bucket=self.bucket, Prefix=self.prefix + "/")
        return listed.get("Versions", []), listed.get("DeleteMarkers", [])


@pytest.fixture
def locked(s3: S3Service, tmp_path: Path) -> Locked:
    """A fresh bucket with Object Lock (which turns versioning on) and a 1-day COMPLIANCE default: its
    objects' versions cannot be erased by anyone until then, so it is left behind for the server's end."""
    bucket = f"locked-{secrets.token_hex(4)}"
    client = s3.client()
    client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    client.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
        },
    )
    env = {"admin_token": TOKEN, "rate_limit_per_minute": "0", "rate_limit_per_hour": "0", "keep_last": "2"}
    return Locked(s3, bucket, "p", settings_for(tmp_path, **env))


def test_uploads_prunes_and_deletes_leave_locked_versions_and_never_a_5xx(locked: Locked) -> None:
    org, key, secret = provision(locked)
    with (
        live_server(locked.settings, locked.overrides()) as server,
        httpx.Client(base_url=server, auth=(key, secret), timeout=60) as appliance,
        httpx.Client(base_url=server + "/api/admin", headers={"Authorization": f"Bearer {TOKEN}"}) as admin,
    ):
        sizes = [1000, 2000, 12 * 1024 * 1024, 3000, 4000]  # the 12 MiB one is a multipart upload
        ids = []
        for size in sizes:
            answer = appliance.post(UPLOAD, content=pgp(size), headers={"X-Filename": "c.tar.gz.gpg"})
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["data"]["id"])
        # keep_last 2: three pruned, each leaving a delete marker over its locked version.
        assert [b["id"] for b in admin.get(f"/systems/{key}/backups").json()["data"]] == ids[:-3:-1]
        assert appliance.delete(f"{UPLOAD}/{ids[-1]}").status_code == 200
        assert admin.delete(f"/systems/{key}/backups/{ids[-2]}").status_code == 200
        assert admin.get(f"/systems/{key}/backups").json()["data"] == []
        assert admin.get(f"/orgs/{org}").json()["data"]["used_bytes"] == 0
        assert appliance.get(f"{UPLOAD}/{ids[-1]}").status_code == 404
    assert locked.current_keys() == []
    versions, markers = locked.versions()
    assert sorted(v["Size"] for v in versions) == sorted(sizes)
    assert len(markers) == len(sizes)
    # The lock holds: erasing a version is refused, whoever asks.
    version = versions[0]
    with pytest.raises(Exception, match="AccessDenied"):
        locked.s3.client().delete_object(Bucket=locked.bucket, Key=version["Key"], VersionId=version["VersionId"])


def test_fsck_and_the_reaper_treat_a_deleted_key_as_gone(locked: Locked) -> None:
    org, key, secret = provision(locked)
    with live_server(locked.settings, locked.overrides()) as server:
        answer = httpx.post(server + UPLOAD, content=pgp(1000), auth=(key, secret))
        assert answer.status_code == 201
    client = locked.s3.client()
    orphan = f"{locked.prefix}/{org}/{key}/{uuid7()}.tar.gz"
    client.put_object(Bucket=locked.bucket, Key=orphan, Body=b"left behind")
    later = FrozenClock(datetime.now(UTC) + timedelta(hours=2))

    async def check() -> tuple[Any, Any, Any]:
        container = build(locked.settings, locked.overrides(later))
        await container.start()
        try:
            assert container.fsck is not None
            assert container.maintenance is not None
            # A stale intent whose object the reaper must erase: a delete marker is enough.
            stale = await stale_intent(container, org, key)
            reaped = await Reaper(catalog=container.maintenance, objects=container.objects, clock=later)()
            assert stale.id not in {b.id for b in await container.maintenance.all_backups()}
            return await container.fsck(repair=True), await container.fsck(), reaped
        finally:
            await container.close()

    repaired, after, reaped = asyncio.run(check())
    assert reaped.stale == 1
    assert [(p.kind, p.key) for p in repaired.repaired] == [("orphan_object", orphan.removeprefix("p/"))]
    assert repaired.ok
    assert after.ok
    assert after.problems == []
    current = locked.current_keys()
    assert orphan not in current
    assert [k for k in current if k.startswith(f"{locked.prefix}/quarantine/")]


def test_an_operator_gets_a_locked_version_back(locked: Locked) -> None:
    """What docs/retention.md tells an operator to do, step by step."""
    _, key, secret = provision(locked)
    with live_server(locked.settings, locked.overrides()) as server:
        answer = httpx.post(server + UPLOAD, content=pgp(1000), auth=(key, secret))
        backup_id = answer.json()["data"]["id"]
        assert httpx.delete(f"{server}{UPLOAD}/{backup_id}", auth=(key, secret)).status_code == 200
    client = locked.s3.client()
    (version,) = locked.versions()[0]
    assert version["Key"].endswith(backup_id)
    source = {"Bucket": locked.bucket, "Key": version["Key"], "VersionId": version["VersionId"]}
    client.download_file(
        locked.bucket,
        version["Key"],
        str(Path(locked.settings.data_dir) / "x"),
        ExtraArgs={"VersionId": version["VersionId"]},
    )
    assert (Path(locked.settings.data_dir) / "x").stat().st_size == 1000
    client.copy_object(Bucket=locked.bucket, Key=version["Key"] + ".restored", CopySource=source)
    assert client.head_object(Bucket=locked.bucket, Key=version["Key"] + ".restored")["ContentLength"] == 1000


def provision(locked: Locked) -> tuple[str, str, str]:
    async def make() -> tuple[str, str, str]:
        container = build(locked.settings, locked.overrides())
        await container.start()
        try:
            org = await container.registry.create_org("acme")
            system = await container.registry.create_system(org.id)
            return org.id, system.system_key, system.system_secret
        finally:
            await container.close()

    return asyncio.run(make())


async def stale_intent(container: Any, org: str, key: str) -> Backup:
    record = await container.directory.get_system(key)
    backup_id = f"{uuid7()}.tar.gz"
    intent = Backup(
        id=backup_id,
        system_id=record.identity.system_id,
        org_id=org,
        object_key=f"{org}/{key}/{backup_id}",
        filename="c.tar.gz",
        envelope=".gpg",
        size=0,
        sha256="",
        mimetype="application/gzip",
        uploaded_at=datetime.now(UTC) - timedelta(hours=3),
        state=BackupState.UPLOADING,
    )
    await container.catalog.begin_upload(intent)
    await container.objects.put(intent.object_key, chunks(pgp(500)))
    return intent
