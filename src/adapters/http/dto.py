"""msgspec DTOs of the HTTP edge and the seed's JSON envelope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from domain.model import Backup


class BackupOut(msgspec.Struct, kw_only=True):
    """Metadata of one stored backup, as the seed's 201 answer shows it."""

    id: str
    filename: str
    size: int
    sha256: str
    mimetype: str
    uploaded_at: str

    @classmethod
    def of(cls, backup: Backup) -> BackupOut:
        return cls(
            id=backup.id,
            filename=backup.filename,
            size=backup.size,
            sha256=backup.sha256,
            mimetype=backup.mimetype,
            uploaded_at=rfc3339(backup.uploaded_at),
        )


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


def rfc3339(moment: datetime) -> str:
    """RFC 3339 UTC with a `Z`, to the second, as in the seed's example."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
