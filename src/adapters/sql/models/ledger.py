"""The ledger's tables (organizations, systems, backups) and the conversions between their rows and the
domain's values."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Table, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from adapters.sql.models.base import Base, UtcDateTime, utc_now
from domain.model import Backup, BackupState, Organization, RetentionPolicy


class OrganizationRow(Base):
    """A tenant and its committed-bytes counter, the row every commit of the org locks."""

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    # None follows the default quota, 0 means no quota.
    quota_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    used_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # Added by r0005: the org's own retention policy; all NULL follows the default.
    keep_last: Mapped[int | None] = mapped_column(Integer, nullable=True)
    keep_daily: Mapped[int | None] = mapped_column(Integer, nullable=True)
    keep_weekly: Mapped[int | None] = mapped_column(Integer, nullable=True)
    keep_monthly: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Added by r0008: the org's own schedule in seconds; NULL follows BACKUP_EXPECT_EVERY / BACKUP_GRACE.
    expect_every_s: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    grace_s: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    @property
    def retention(self) -> RetentionPolicy | None:
        return policy_of(self.keep_last, self.keep_daily, self.keep_weekly, self.keep_monthly)

    def to_domain(self) -> Organization:
        return Organization(id=self.id, name=self.name, quota_bytes=self.quota_bytes, retention=self.retention)


class SystemRow(Base):
    """An appliance: its key, its org and the salted hash of its secret."""

    __tablename__ = "systems"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    system_key: Mapped[str] = mapped_column(String(64), unique=True)
    org_id: Mapped[str] = mapped_column(Text, ForeignKey("organizations.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(Text)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # Added by r0008: the system's own schedule (NULL follows its org's), and its newest refusal.
    expect_every_s: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    grace_s: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_error_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Added by r0009: the last state the schedule evaluator announced (down, failing or up).
    notified_state: Mapped[str | None] = mapped_column(String(16), nullable=True)


class BackupRow(Base):
    """One backup's metadata, in state uploading (intent), stored or deleting."""

    __tablename__ = "backups"
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    system_id: Mapped[str] = mapped_column(Text, ForeignKey("systems.id"), index=True)
    org_id: Mapped[str] = mapped_column(Text, index=True)
    object_key: Mapped[str] = mapped_column(Text, unique=True)
    filename: Mapped[str] = mapped_column(Text)
    envelope: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(Text)
    mimetype: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # Added by r0002; NULL for rows from before.
    uploader_ip: Mapped[str | None] = mapped_column(Text, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    committed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Added by r0004: the heartbeat of an upload still streaming.
    alive_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Added by r0005: an operator's protection, never pruned nor deleted.
    protected: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    protected_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Added by r0010: the scrubber's last look at the object.
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    verify_state: Mapped[str | None] = mapped_column(String(16), nullable=True)

    __table_args__ = (
        # One upload in flight per key and system: a second one is refused (409) at its intent.
        Index(
            "uq_backups_key_in_flight",
            "system_id",
            "idempotency_key",
            unique=True,
            sqlite_where=text("state = 'uploading' AND idempotency_key IS NOT NULL"),
            postgresql_where=text("state = 'uploading' AND idempotency_key IS NOT NULL"),
        ),
    )

    @classmethod
    def from_domain(cls, backup: Backup) -> BackupRow:
        """The row recording `backup` as it stands."""
        return cls(
            id=backup.id,
            system_id=backup.system_id,
            org_id=backup.org_id,
            object_key=backup.object_key,
            filename=backup.filename,
            envelope=backup.envelope,
            size=backup.size,
            sha256=backup.sha256,
            mimetype=backup.mimetype,
            uploaded_at=backup.uploaded_at,
            state=backup.state.value,
            uploader_ip=backup.uploader_ip,
            idempotency_key=backup.idempotency_key,
            committed_at=backup.committed_at,
            alive_at=backup.alive_at,
            protected=backup.protected,
            protected_note=backup.protected_note,
            verified_at=backup.verified_at,
            verify_state=backup.verify_state,
        )

    def to_domain(self) -> Backup:
        """The domain value of this row."""
        return Backup(
            id=self.id,
            system_id=self.system_id,
            org_id=self.org_id,
            object_key=self.object_key,
            filename=self.filename,
            envelope=self.envelope,
            size=self.size,
            sha256=self.sha256,
            mimetype=self.mimetype,
            uploaded_at=self.uploaded_at,
            state=BackupState(self.state),
            uploader_ip=self.uploader_ip,
            idempotency_key=self.idempotency_key,
            committed_at=self.committed_at,
            alive_at=self.alive_at,
            protected=self.protected,
            protected_note=self.protected_note,
            verified_at=self.verified_at,
            verify_state=self.verify_state,
        )


BACKUPS = cast(Table, BackupRow.__table__)
ORGANIZATIONS = cast(Table, OrganizationRow.__table__)
SYSTEMS = cast(Table, SystemRow.__table__)
_BACKUP_FIELDS = tuple(field.name for field in dataclasses.fields(Backup))


def backup_values(backup: Backup) -> dict[str, Any]:
    """The column values of `backup`'s row, for Core statements (the columns are named as its fields)."""
    values = {name: getattr(backup, name) for name in _BACKUP_FIELDS}
    values["state"] = backup.state.value
    return values


def backup_of(row: Mapping[Any, Any], prefix: str = "") -> Backup:
    """The backup in a Core result row, its columns named `prefix` + field name."""
    fields = {name: row[prefix + name] for name in _BACKUP_FIELDS}
    fields["state"] = BackupState(fields["state"])
    return Backup(**fields)


def policy_of(
    keep_last: int | None, keep_daily: int | None, keep_weekly: int | None, keep_monthly: int | None
) -> RetentionPolicy | None:
    """An organization's own policy from its columns (`keep_last` NULL: it has none)."""
    if keep_last is None:
        return None
    return RetentionPolicy(
        keep_last=keep_last, keep_daily=keep_daily or 0, keep_weekly=keep_weekly or 0, keep_monthly=keep_monthly or 0
    )


def policy_values(policy: RetentionPolicy | None) -> dict[str, int | None]:
    """The organization columns recording `policy` (None: all NULL)."""
    if policy is None:
        return {"keep_last": None, "keep_daily": None, "keep_weekly": None, "keep_monthly": None}
    return {
        "keep_last": policy.keep_last,
        "keep_daily": policy.keep_daily,
        "keep_weekly": policy.keep_weekly,
        "keep_monthly": policy.keep_monthly,
    }
