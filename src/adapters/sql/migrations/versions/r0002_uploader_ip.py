"""Keep the uploader's address with each backup (operator audit data; NULL for older rows).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """A nullable column: adding it rewrites no row on SQLite or PostgreSQL."""
    op.add_column("backups", sa.Column("uploader_ip", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("backups") as batch:
        batch.drop_column("uploader_ip")
