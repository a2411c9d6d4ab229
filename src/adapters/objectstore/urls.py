"""BACKUP_STORAGE_URL → an obstore store: `file://PATH`, `memory://`, `s3://BUCKET[/PREFIX]`."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from obstore.store import LocalStore, MemoryStore, S3Store

from adapters.objectstore.obstore_adapter import Store


def store_from_url(url: str, env: Mapping[str, str] | None = None) -> Store:
    """Raises ValueError with a one-line reason for a URL it cannot serve."""
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
    if not parts.netloc:
        raise ValueError(f"{url!r}: no bucket")
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or ""
    plain_http = endpoint.startswith("http://")
    if plain_http and not (_truthy(env.get("AWS_ALLOW_HTTP")) or _is_loopback(endpoint)):
        raise ValueError(
            f"AWS_ENDPOINT_URL {endpoint!r} is plain HTTP: "
            "set AWS_ALLOW_HTTP=true to send backups unencrypted in transit"
        )
    return S3Store(
        parts.netloc,
        prefix=parts.path.strip("/") or None,
        client_options={"allow_http": plain_http, "timeout": "300s", "connect_timeout": "5s"},
        virtual_hosted_style_request=_truthy(env.get("AWS_VIRTUAL_HOSTED_STYLE_REQUEST")),
    )


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _is_loopback(endpoint: str) -> bool:
    host = urlsplit(endpoint).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
