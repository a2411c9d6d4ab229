"""Initial schema: organizations, systems, backups.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sql.models import UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the three tables and their indexes."""
    op.create_table(
        "organizations",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("quota_bytes", sa.BigInteger(), nullable=True),
        sa.Column("used_bytes", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "systems",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("system_key", sa.String(64), nullable=False),
        sa.Column("org_id", sa.Text(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("system_key", name="uq_systems_system_key"),
    )
    op.create_index("ix_systems_org_id", "systems", ["org_id"])
    op.create_table(
        "backups",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("system_id", sa.Text(), sa.ForeignKey("systems.id"), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("object_key", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("mimetype", sa.Text(), nullable=False),
        sa.Column("uploaded_at", UtcDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("object_key", name="uq_backups_object_key"),
    )
    op.create_index("ix_backups_system_id", "backups", ["system_id"])
    op.create_index("ix_backups_org_id", "backups", ["org_id"])
    op.create_index("ix_backups_state", "backups", ["state"])


def downgrade() -> None:
    """Drop everything, children first."""
    op.drop_table("backups")
    op.drop_table("systems")
    op.drop_table("organizations")
