"""The scrubber's record on each backup: when its object was last re-read and what was found.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sql.models import UtcDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Nullable: every backup starts never verified, and is due first."""
    with op.batch_alter_table("backups") as batch:
        batch.add_column(sa.Column("verified_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("verify_state", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("backups") as batch:
        batch.drop_column("verify_state")
        batch.drop_column("verified_at")
