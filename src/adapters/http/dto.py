"""msgspec DTOs of the HTTP edge and the seed's JSON envelope, typed per data shape for the OpenAPI document."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

from adapters.shapes import BackupOut, rfc3339

__all__ = [
    "BackupOut",
    "Deleted",
    "Empty",
    "Envelope",
    "ErrorItem",
    "Health",
    "ListingOut",
    "Readiness",
    "RetryAfter",
    "UnavailableData",
    "UsageOut",
    "ValidationData",
    "rfc3339",
]

T = TypeVar("T")


class Envelope(msgspec.Struct, Generic[T]):
    """Every JSON answer: `{"code": <http status>, "message": <text>, "data": …}`."""

    code: int
    message: str
    data: T


class ErrorItem(msgspec.Struct):
    key: str
    message: str
    value: str


class ValidationData(msgspec.Struct):
    errors: list[ErrorItem]
    details: dict[str, Any]
    type: str = "validation_error"


class Empty(msgspec.Struct):
    """`{}`: nothing to say (a 401)."""


class RetryAfter(msgspec.Struct):
    retry_after_seconds: int


class UnavailableData(msgspec.Struct):
    dependency: str
    """`database`, `object store` or `server` (shutting down)."""
    retry_after_seconds: int


class Deleted(msgspec.Struct):
    id: str


class UsageOut(msgspec.Struct):
    count: int
    total_size: int
    max_count: int
    max_total_size: int


class ListingOut(msgspec.Struct):
    backups: list[BackupOut]
    """Newest first."""
    usage: UsageOut


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    """Each dependency: `ok` or `error` (`full`: an object store with no room left, still ready)."""

    database: str
    object_store: str
