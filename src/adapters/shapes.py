"""The JSON shapes of SPEC that the HTTP API and the CLI share, so the two never drift apart."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import msgspec

from domain.events import Event, format_at
from domain.keeping import Preview
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


class OperatorBackupOut(BackupOut, kw_only=True):
    """A backup as operators see it (CLI, admin API): the appliance's metadata plus audit data."""

    uploader_ip: str | None
    protected: bool
    protected_note: str | None

    @classmethod
    def of(cls, backup: Backup) -> OperatorBackupOut:
        return cls(
            **msgspec.structs.asdict(BackupOut.of(backup)),
            uploader_ip=backup.uploader_ip,
            protected=backup.protected,
            protected_note=backup.protected_note,
        )


def preview_shape(preview: Preview) -> dict[str, Any]:
    """`retention preview`: `{"system_key", "policy", "backups": [<operator metadata> + "kept_by"]}`,
    newest first; `kept_by` null = the policy would prune it."""
    return {
        "system_key": preview.system_key,
        "policy": plain(preview.policy),
        "backups": [
            {**msgspec.structs.asdict(OperatorBackupOut.of(item.backup)), "kept_by": item.kept_by}
            for item in preview.backups
        ],
    }


def rfc3339(moment: datetime) -> str:
    """RFC 3339 UTC with a `Z`, to the second, as in the seed's example."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plain(value: Any, *, operator: bool = False) -> Any:
    """JSON-ready builtins: a backup as its metadata (with the operator's audit fields when `operator`),
    a report dataclass as a dict of its fields in order (their names are SPEC's keys), datetimes in
    RFC 3339, lists item by item."""
    if isinstance(value, Backup):
        return msgspec.structs.asdict((OperatorBackupOut if operator else BackupOut).of(value))
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, list | tuple):
        return [plain(item, operator=operator) for item in value]
    if isinstance(value, dict):
        return {key: plain(item, operator=operator) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name), operator=operator) for field in dataclasses.fields(value)}
    return value


REPORT_COLUMNS = (
    "org_id",
    "org_name",
    "org_used_bytes",
    "org_quota_bytes",
    "system_key",
    "state",
    "last_backup_at",
    "backups",
    "total_size",
    "stored",
    "duplicates",
    "refused",
    "pruned",
    "last_error_status",
    "last_error_key",
    "last_error_at",
)


def report_csv(report: Any) -> str:
    """The report as one CSV table, a row per system with its organization's usage beside it (RFC 4180)."""
    import csv
    import io

    orgs = {o.id: o for o in report.orgs}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    for s in report.systems:
        org = orgs.get(s.org_id)
        error = s.last_error
        writer.writerow(
            [
                s.org_id,
                _text(org.name) if org else "",
                org.used_bytes if org else "",
                org.quota_bytes if org else "",
                _text(s.system_key),
                s.state,
                rfc3339(s.last_backup_at) if s.last_backup_at else "",
                s.backups,
                s.total_size,
                s.stored,
                s.duplicates,
                s.refused,
                s.pruned,
                error.status if error else "",
                _text(error.key) if error else "",
                rfc3339(error.at) if error else "",
            ]
        )
    return out.getvalue()


def _text(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP's CSV injection advice)."""
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


def event_json(event: Event) -> dict[str, object]:
    """SPEC's shape of an event log entry, the form `log show` and the admin API print."""
    return {
        "seq": event.seq,
        "at": format_at(event.at),
        "type": event.type.value,
        "org_id": event.org_id,
        "system_key": event.system_key,
        "backup_id": event.backup_id,
        "actor": event.actor.value,
        "detail": dict(event.detail),
    }
