"""Retention policies per organization and protected backups.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

_TIERS = ("keep_last", "keep_daily", "keep_weekly", "keep_monthly")


def upgrade() -> None:
    """An organization's own policy (all four NULL: it follows the default); a backup's protection."""
    with op.batch_alter_table("organizations") as batch:
        for tier in _TIERS:
            batch.add_column(sa.Column(tier, sa.Integer(), nullable=True))
    with op.batch_alter_table("backups") as batch:
        batch.add_column(sa.Column("protected", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("protected_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("backups") as batch:
        batch.drop_column("protected_note")
        batch.drop_column("protected")
    with op.batch_alter_table("organizations") as batch:
        for tier in reversed(_TIERS):
            batch.drop_column(tier)
