"""BACKUP_STORAGE_URL → an ObjectStore: `file://PATH` (FileObjectStore, durable), `memory://` and
`s3://BUCKET[/PREFIX]` (obstore).

For S3 every setting is read from the environment mapping given (the process environment by default)
and handed to obstore explicitly, so what the mapping says is what the store does:

- `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`: a custom endpoint (MinIO, Ceph, Garage…); unset = AWS;
- `AWS_REGION` or `AWS_DEFAULT_REGION`; `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`
  (unset: obstore's own chain — web identity, ECS, instance metadata);
- `AWS_VIRTUAL_HOSTED_STYLE_REQUEST`: `true` for `https://BUCKET.host/key`, `false` for
  `https://host/BUCKET/key`. Default: virtual-hosted on AWS, path style on a custom endpoint (which
  rarely has wildcard DNS for bucket names);
- `AWS_ALLOW_HTTP=true`: allow a plain-HTTP endpoint; loopback endpoints are allowed without it.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from obstore.store import LocalStore, MemoryStore, S3Store

from adapters.objectstore.file_store import FileObjectStore
from adapters.objectstore.obstore_adapter import ObstoreObjectStore, Store

if TYPE_CHECKING:
    from obstore.store import RetryConfig, S3Config

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# obstore retries failed requests for up to 3 minutes by default; an unreachable store must surface as
# 503 while the appliance still waits, so give up after a few quick retries.
RETRY: RetryConfig = {
    "max_retries": 3,
    "retry_timeout": timedelta(seconds=15),
    "backoff": {"init_backoff": timedelta(milliseconds=100), "max_backoff": timedelta(seconds=2), "base": 2},
}


def objects_from_url(url: str, env: Mapping[str, str] | None = None) -> FileObjectStore | ObstoreObjectStore:
    """The ObjectStore `url` names: local files through FileObjectStore (it syncs before `put` returns;
    obstore's LocalStore does not), everything else through obstore. Raises ValueError as `store_from_url`."""
    if url.startswith("file://"):
        return FileObjectStore(Path(url.removeprefix("file://")).expanduser())
    return ObstoreObjectStore(store_from_url(url, env))


def store_from_url(url: str, env: Mapping[str, str] | None = None) -> Store:
    """The obstore store `url` names.

    Args:
        url: `file://PATH`, `memory://` or `s3://BUCKET[/PREFIX]`.
        env: Where the `AWS_*` settings of an S3 store come from; the process environment by default.

    Raises:
        ValueError: One line saying why `url` (or an `AWS_*` setting) cannot be served.
    """
    env = os.environ if env is None else env
    if url.startswith("memory:"):
        return MemoryStore()
    if url.startswith("file://"):
        root = Path(url.removeprefix("file://")).expanduser()
        root.mkdir(parents=True, exist_ok=True)
        return LocalStore(root.resolve())
    if url.startswith("s3://"):
        return _s3(url, env)
    raise ValueError(f"{url!r}: use file://PATH, memory:// or s3://BUCKET[/PREFIX]")


def _s3(url: str, env: Mapping[str, str]) -> S3Store:
    parts = urlsplit(url)
    bucket = parts.netloc
    if not bucket:
        raise ValueError(f"BACKUP_STORAGE_URL {url!r}: no bucket (use s3://BUCKET[/PREFIX])")
    endpoint = _get(env, "AWS_ENDPOINT_URL_S3") or _get(env, "AWS_ENDPOINT_URL")
    virtual_hosted = _flag(env, "AWS_VIRTUAL_HOSTED_STYLE_REQUEST", default=not endpoint)
    config: S3Config = {"virtual_hosted_style_request": virtual_hosted}
    plain_http = False
    if endpoint:
        scheme = urlsplit(endpoint).scheme
        if scheme not in {"http", "https"} or not urlsplit(endpoint).hostname:
            raise ValueError(f"AWS_ENDPOINT_URL {endpoint!r}: not an http(s):// URL")
        plain_http = scheme == "http"
        if plain_http and not (_flag(env, "AWS_ALLOW_HTTP", default=False) or _is_loopback(endpoint)):
            raise ValueError(
                f"AWS_ENDPOINT_URL {endpoint!r} is plain HTTP: use https, or set AWS_ALLOW_HTTP=true "
                "to send backups and credentials unencrypted in transit"
            )
        # obstore expects the bucket in a virtual-hosted endpoint's host name already.
        config["endpoint"] = _with_bucket_host(endpoint, bucket) if virtual_hosted else endpoint.rstrip("/")
    region = _get(env, "AWS_REGION") or _get(env, "AWS_DEFAULT_REGION")
    if region:
        config["region"] = region
    for variable, key in (
        ("AWS_ACCESS_KEY_ID", "access_key_id"),
        ("AWS_SECRET_ACCESS_KEY", "secret_access_key"),
        ("AWS_SESSION_TOKEN", "session_token"),
    ):
        value = _get(env, variable)
        if value:
            config[key] = value  # type: ignore[literal-required]
    return S3Store(
        bucket,
        prefix=parts.path.strip("/") or None,
        config=config,
        client_options={"allow_http": plain_http, "timeout": "300s", "connect_timeout": "5s"},
        retry_config=RETRY,
    )


def _get(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = _get(env, name).lower()
    if not value:
        return default
    if value not in _TRUE | _FALSE:
        raise ValueError(f"{name}: {value!r} is not true or false")
    return value in _TRUE


def _with_bucket_host(endpoint: str, bucket: str) -> str:
    parts = urlsplit(endpoint.rstrip("/"))
    if parts.netloc.startswith(f"{bucket}."):
        return urlunsplit(parts)
    return urlunsplit(parts._replace(netloc=f"{bucket}.{parts.netloc}"))


def _is_loopback(endpoint: str) -> bool:
    host = urlsplit(endpoint).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
