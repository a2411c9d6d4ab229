"""Uploads in flight carry a heartbeat, so the reaper never takes one that is still receiving.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sql.models import UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Nullable: rows from before, and intents that have not beaten yet, count from `uploaded_at`."""
    with op.batch_alter_table("backups") as batch:
        batch.add_column(sa.Column("alive_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("backups") as batch:
        batch.drop_column("alive_at")
