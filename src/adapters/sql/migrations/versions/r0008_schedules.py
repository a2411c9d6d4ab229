"""Schedules per org and system, and each system's newest refused upload (the `failing` state).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sql.models import UtcDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """All nullable: NULL schedules follow the level above; NULL errors mean none recorded."""
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("expect_every_s", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("grace_s", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("systems") as batch:
        batch.add_column(sa.Column("expect_every_s", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("grace_s", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("last_error_status", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_error_key", sa.Text(), nullable=True))
        batch.add_column(sa.Column("last_error_message", sa.Text(), nullable=True))
        batch.add_column(sa.Column("last_error_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("systems") as batch:
        for column in ("last_error_at", "last_error_message", "last_error_key", "last_error_status", "grace_s"):
            batch.drop_column(column)
        batch.drop_column("expect_every_s")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("grace_s")
        batch.drop_column("expect_every_s")
