"""Uploads carry their Idempotency-Key and the time they committed; one in flight per key and system.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sql.models import UtcDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_IN_FLIGHT = "state = 'uploading' AND idempotency_key IS NOT NULL"


def upgrade() -> None:
    """Two nullable columns (rows of earlier uploads carry no key) and the partial unique index."""
    with op.batch_alter_table("backups") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(255), nullable=True))
        batch.add_column(sa.Column("committed_at", UtcDateTime(), nullable=True))
    op.create_index(
        "uq_backups_key_in_flight",
        "backups",
        ["system_id", "idempotency_key"],
        unique=True,
        sqlite_where=sa.text(_IN_FLIGHT),
        postgresql_where=sa.text(_IN_FLIGHT),
    )


def downgrade() -> None:
    op.drop_index("uq_backups_key_in_flight", table_name="backups")
    with op.batch_alter_table("backups") as batch:
        batch.drop_column("committed_at")
        batch.drop_column("idempotency_key")
