"""The event log's tables: its entries and head (r0006), its signed checkpoints and leaf hashes (r0007)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import BigInteger, Index, LargeBinary, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from adapters.sql.models.base import Base, UtcDateTime


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


EVENTS = cast(Table, EventRow.__table__)
EVENT_HEAD = cast(Table, EventHeadRow.__table__)
CHECKPOINTS = cast(Table, CheckpointRow.__table__)
LEAF_HASHES = cast(Table, LeafHashRow.__table__)
