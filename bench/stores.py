"""The other services a bench line needs: a real S3 server (SeaweedFS), a scratch PostgreSQL database, and the
direct obstore put that the S3 line is compared with."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterator

import asyncpg
import obstore
from obstore.store import S3Store
from tests.integration.seaweedfs import seaweedfs

from bench.body import pieces

BUCKET = "bench-bucket"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def s3_server() -> Iterator[dict[str, str]]:
    """SeaweedFS on loopback (as the tests run it) with the bench bucket; yields the AWS_* environment
    that reaches it. Server and data are gone afterwards."""
    with seaweedfs() as server:
        server.client().create_bucket(Bucket=BUCKET)
        yield {
            "AWS_ENDPOINT_URL": server.endpoint,
            "AWS_ACCESS_KEY_ID": server.access_key,
            "AWS_SECRET_ACCESS_KEY": server.secret_key,
            "AWS_REGION": server.region,
        }


def direct_put_seconds(aws: dict[str, str], block: bytes, size: int, key: str) -> float:
    """A direct obstore multipart put (the library's default part size and concurrency) of the same
    bytes to the same server; the object is deleted afterwards."""
    store = S3Store(
        BUCKET,
        endpoint=aws["AWS_ENDPOINT_URL"],
        access_key_id=aws["AWS_ACCESS_KEY_ID"],
        secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
        region=aws["AWS_REGION"],
        client_options={"allow_http": True, "timeout": "300s"},
    )

    async def put() -> float:
        started = time.perf_counter()
        await obstore.put_async(store, key, iter(pieces(block, size)))
        seconds = time.perf_counter() - started
        await obstore.delete_async(store, key)
        return seconds

    return asyncio.run(put())


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh database on the local PostgreSQL (trust auth); dropped afterwards. Yields its URL."""
    name = f"bench_{os.getpid()}_{int(time.time())}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(POSTGRES, timeout=10)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
