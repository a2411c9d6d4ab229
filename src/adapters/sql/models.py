"""Declarative models of the catalog schema.

The Alembic revisions in `migrations/versions` create the same schema by hand; keep both in step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from domain.model import Backup, BackupState, Organization, RetentionPolicy


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no timezone type and hands back naive values, so we store naive UTC there and attach
    UTC on the way out; PostgreSQL's `timestamptz` round-trips aware values already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # A naive datetime is ambiguous; refusing it keeps bugs from being stored silently.
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of the catalog tables."""

    # Named constraints, as the hand-written revisions name them, so later autogenerate diffs stay quiet.
    metadata = MetaData(naming_convention={"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s"})


class OrganizationRow(Base):
    """A tenant and its committed-bytes counter, the row every commit of the org locks."""

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    # None follows the default quota, 0 means no quota.
    quota_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    used_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
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
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
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
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=_now)
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


class EventRow(Base):
    """One entry of the append-only event log (added by r0006). `at` and `detail` are kept in their
    canonical text forms (`domain.events.format_at`, `encode_detail`), so what is hashed is what is stored."""

    __tablename__ = "event_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    org_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    system_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    backup_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_event_log_system_key_seq", "system_key", "seq"),)


class EventHeadRow(Base):
    """The log's one-row head on PostgreSQL: the next seq. Every appending transaction locks it as its
    last statement, so seqs are gapless and given in commit order across replicas."""

    __tablename__ = "event_log_head"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    next_seq: Mapped[int] = mapped_column(BigInteger)


class CheckpointRow(Base):
    """A signed checkpoint of the event log (added by r0007): its tree head, the tree's right edge
    (base64 hashes joined by `,`, largest subtree first) and the signed note."""

    __tablename__ = "log_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[str] = mapped_column(Text)
    frontier: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class LeafHashRow(Base):
    """The leaf hash of entry `seq` as the checkpointer hashed it (added by r0007)."""

    __tablename__ = "log_leaf_hashes"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


BACKUPS = cast(Table, BackupRow.__table__)
EVENTS = cast(Table, EventRow.__table__)
EVENT_HEAD = cast(Table, EventHeadRow.__table__)
CHECKPOINTS = cast(Table, CheckpointRow.__table__)
LEAF_HASHES = cast(Table, LeafHashRow.__table__)
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


def utc(value: datetime | str | None) -> datetime | None:
    """An aware UTC value from what an aggregate hands back: `max()` over a column loses its type on
    SQLite (a naive value or a string comes back)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class WebhookRow(Base):
    """A webhook (added by r0009): `events` the alert types it takes, comma-separated."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    org_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    events: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(16))
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DeliveryRow(Base):
    """One event on its way to one webhook (added by r0009)."""

    __tablename__ = "webhook_deliveries"

    webhook_id: Mapped[str] = mapped_column(Text, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_try_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_webhook_deliveries_state_next_try_at", "state", "next_try_at"),)


class CursorRow(Base):
    """A log reader's cursor (added by r0009): the last seq it has handled."""

    __tablename__ = "log_cursors"

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


class RefusalRow(Base):
    """One refused upload of an authenticated system (added by r0011), for the report's window counts."""

    __tablename__ = "refusals"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    system_id: Mapped[str] = mapped_column(Text, index=True)
    status: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
