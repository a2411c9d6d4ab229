"""The append-only event log and its head counter.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """What the service held before starts no entries: the log begins empty, at seq 0."""
    op.create_table(
        "event_log",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=True),
        sa.Column("system_key", sa.Text(), nullable=True),
        sa.Column("backup_id", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_event_log_system_key_seq", "event_log", ["system_key", "seq"])
    head = op.create_table(
        "event_log_head",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("next_seq", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "next_seq": 0}])


def downgrade() -> None:
    op.drop_table("event_log_head")
    op.drop_index("ix_event_log_system_key_seq", table_name="event_log")
    op.drop_table("event_log")
