"""S3 beyond the contract: settings from the environment, plain-HTTP refusal, multipart streaming."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from obstore.store import S3Store

from adapters.objectstore.obstore_adapter import PART_SIZE, ObstoreObjectStore
from adapters.objectstore.urls import store_from_url
from app.cli import main
from domain.errors import StoreUnavailable
from tests.integration.live import client, provision, serving, settings_for
from tests.integration.services import S3Service
from tests.unit.fakes import pgp

MIB = 1024 * 1024


class BodyFailed(Exception):
    pass


async def pattern(size: int, fail: bool = False) -> AsyncIterator[bytes]:
    """`size` bytes of a repeating pattern in 1 MiB chunks; raise at the end when `fail`."""
    block = bytes(range(256)) * (MIB // 256)
    sent = 0
    while sent < size:
        chunk = block[: min(MIB, size - sent)]
        sent += len(chunk)
        yield chunk
    if fail:
        raise BodyFailed("client went away")


def digest(size: int) -> str:
    block = bytes(range(256)) * (MIB // 256)
    hasher = hashlib.sha256()
    for start in range(0, size, MIB):
        hasher.update(block[: min(MIB, size - start)])
    return hasher.hexdigest()


def prefix() -> str:
    return f"t-{secrets.token_hex(6)}"


async def test_a_body_of_several_parts_streams_as_one_multipart_object(s3: S3Service) -> None:
    where = prefix()
    objects = ObstoreObjectStore(store_from_url(s3.url(where), env=s3.env))
    size = 2 * PART_SIZE + 3 * MIB  # three parts, the last one short
    assert await objects.put("org/sys/big.bin", pattern(size)) == size
    data = s3.object_bytes(f"{where}/org/sys/big.bin")
    assert len(data) == size
    assert hashlib.sha256(data).hexdigest() == digest(size)
    assert s3.pending_multipart_uploads(where) == []


async def test_a_body_failing_after_a_part_was_sent_leaves_no_multipart_upload(s3: S3Service) -> None:
    where = prefix()
    objects = ObstoreObjectStore(store_from_url(s3.url(where), env=s3.env))
    with pytest.raises(BodyFailed):
        await objects.put("org/sys/cut.bin", pattern(PART_SIZE + 2 * MIB, fail=True))
    assert [o async for o in objects.list("")] == []
    assert s3.pending_multipart_uploads(where) == []
    # The listing does show uploads left open, so the empty answer above means something.
    client = s3.client()
    opened = client.create_multipart_upload(Bucket=s3.bucket, Key=f"{where}/left-open")
    assert s3.pending_multipart_uploads(where) == [f"{where}/left-open"]
    client.abort_multipart_upload(Bucket=s3.bucket, Key=f"{where}/left-open", UploadId=opened["UploadId"])


async def test_a_wrong_secret_is_refused_and_stores_nothing(s3: S3Service) -> None:
    where = prefix()
    wrong = s3.env | {"AWS_SECRET_ACCESS_KEY": s3.secret_key[::-1]}
    refused = ObstoreObjectStore(store_from_url(s3.url(where), env=wrong))
    with pytest.raises(StoreUnavailable):
        await refused.ping()
    with pytest.raises(StoreUnavailable):
        await refused.put("k.bin", pattern(10))
    with pytest.raises(StoreUnavailable):
        await refused.put("big.bin", pattern(PART_SIZE + MIB))
    right = ObstoreObjectStore(store_from_url(s3.url(where), env=s3.env))
    assert [o async for o in right.list("")] == []
    assert s3.pending_multipart_uploads(where) == []
    # The same store with the right secret does write: only the signature differed.
    assert await right.put("k.bin", pattern(10)) == 10


def test_a_server_with_a_wrong_s3_secret_is_not_ready_and_answers_uploads_503(s3: S3Service, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)  # the operator's database; the server's store is the S3 below
    (tenant,) = provision(settings)
    where = prefix()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKUP_", "AWS_"))}
    env |= s3.env | {
        "AWS_SECRET_ACCESS_KEY": "not-" + s3.secret_key,
        "BACKUP_DATA_DIR": str(tmp_path),
        "BACKUP_STORAGE_URL": s3.url(where),
    }
    with serving(env, tmp_path / "serve.log", ready="/api/health") as served, client(served.url, tenant) as http:
        assert http.get("/api/ready").status_code == 503
        answer = http.post("/api/systems/backups", content=pgp(4096), headers={"X-Filename": "a.gpg"})
        assert answer.status_code == 503
        assert answer.json()["code"] == 503
    assert s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=where).get("KeyCount") == 0


async def test_credentials_region_and_endpoint_come_from_the_process_environment(
    s3: S3Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in s3.env.items():
        monkeypatch.setenv(name, value)
    where = prefix()
    objects = ObstoreObjectStore(store_from_url(s3.url(where)))
    assert await objects.put("k.bin", pattern(10)) == 10
    assert s3.object_bytes(f"{where}/k.bin") == bytes(range(10))


async def test_an_unreachable_endpoint_is_store_unavailable_within_seconds() -> None:
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    objects = ObstoreObjectStore(store_from_url("s3://bucket/p", env=env))
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        await objects.ping()
    with pytest.raises(StoreUnavailable):
        await objects.put("k.bin", pattern(10))
    assert time.monotonic() - started < 20


def config(url: str, **env: str) -> dict[str, str]:
    store = store_from_url(url, env=env)
    assert isinstance(store, S3Store)
    return {key: str(value) for key, value in store.config.items()}


def test_aws_settings_are_read_from_the_environment_given() -> None:
    seen = config(
        "s3://backups/prod/",
        AWS_ACCESS_KEY_ID="AKIAEXAMPLE",
        AWS_SECRET_ACCESS_KEY="secret",
        AWS_SESSION_TOKEN="token",
        AWS_REGION="eu-west-3",
    )
    assert seen == {
        "bucket": "backups",
        "access_key_id": "AKIAEXAMPLE",
        "secret_access_key": "secret",
        "session_token": "token",
        "region": "eu-west-3",
        "virtual_hosted_style_request": "true",
    }
    assert config("s3://b", AWS_DEFAULT_REGION="ap-south-1")["region"] == "ap-south-1"
    store = store_from_url("s3://backups/prod/", env={})
    assert isinstance(store, S3Store)
    assert store.prefix == "prod"


def test_aws_itself_is_addressed_virtual_hosted_and_a_custom_endpoint_path_style() -> None:
    assert config("s3://b")["virtual_hosted_style_request"] == "true"
    custom = config("s3://b", AWS_ENDPOINT_URL="https://minio.example:9000/")
    assert (custom["endpoint"], custom["virtual_hosted_style_request"]) == ("https://minio.example:9000", "false")
    asked = config("s3://b", AWS_ENDPOINT_URL="https://minio.example:9000", AWS_VIRTUAL_HOSTED_STYLE_REQUEST="true")
    assert (asked["endpoint"], asked["virtual_hosted_style_request"]) == ("https://b.minio.example:9000", "true")
    path = config("s3://b", AWS_VIRTUAL_HOSTED_STYLE_REQUEST="false")
    assert path["virtual_hosted_style_request"] == "false"
    specific = config("s3://b", AWS_ENDPOINT_URL="https://a.example", AWS_ENDPOINT_URL_S3="https://s3.example")
    assert specific["endpoint"] == "https://s3.example"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AWS_ENDPOINT_URL": "http://minio.internal:9000"}, "plain HTTP"),
        ({"AWS_ENDPOINT_URL": "http://10.0.0.5:9000", "AWS_ALLOW_HTTP": "false"}, "AWS_ALLOW_HTTP=true"),
        ({"AWS_ENDPOINT_URL": "minio.internal:9000"}, "not an http"),
        ({"AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "maybe"}, "AWS_VIRTUAL_HOSTED_STYLE_REQUEST"),
        ({"AWS_ENDPOINT_URL": "http://minio.internal:9000", "AWS_ALLOW_HTTP": "sure"}, "AWS_ALLOW_HTTP"),
    ],
)
def test_unsafe_or_malformed_s3_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        store_from_url("s3://bucket", env=env)


def test_plain_http_is_allowed_on_loopback_or_when_asked() -> None:
    for endpoint in ("http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]:9000"):
        assert config("s3://b", AWS_ENDPOINT_URL=endpoint)["endpoint"] == endpoint
    assert (
        config("s3://b", AWS_ENDPOINT_URL="http://minio:9000", AWS_ALLOW_HTTP="true")["endpoint"] == "http://minio:9000"
    )
    with pytest.raises(ValueError, match="no bucket"):
        store_from_url("s3:///only-a-path", env={})


def test_serve_refuses_to_start_on_a_plain_http_endpoint_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [n for n in os.environ if n.startswith(("AWS_", "BACKUP_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("BACKUP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BACKUP_STORAGE_URL", "s3://backups")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://minio.internal:9000")
    assert main(["serve", "--port", "1"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "backup-collect: AWS_ENDPOINT_URL 'http://minio.internal:9000' is plain HTTP: use https, or set "
        "AWS_ALLOW_HTTP=true to send backups and credentials unencrypted in transit"
    ]
