"""msgspec DTOs of the HTTP edge and the seed's JSON envelope."""

from __future__ import annotations

from typing import Any

import msgspec

from adapters.shapes import BackupOut, rfc3339

__all__ = ["BackupOut", "Envelope", "ErrorItem", "ValidationData", "rfc3339"]


class ErrorItem(msgspec.Struct):
    key: str
    message: str
    value: str


class ValidationData(msgspec.Struct):
    errors: list[ErrorItem]
    details: dict[str, Any]
    type: str = "validation_error"


class Envelope(msgspec.Struct):
    """Every JSON answer: `{"code": <http status>, "message": <text>, "data": …}`."""

    code: int
    message: str
    data: Any
