"""Authentication on SQLAlchemy: the two reads every appliance request starts with, for the SystemDirectory
port (`SqlSystemDirectory` inherits them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import guarded
from adapters.sql.models import BackupRow, OrganizationRow, SystemRow, backup_of, policy_of
from domain.credentials import verify_secret
from domain.model import BackupState, SystemIdentity
from domain.ports import OrgUsage, Standing


class SqlAuthentication:
    """Plain Core statements on a connection, no ORM session: authentication runs on every request.

    Every method raises CatalogUnavailable when the database cannot be reached.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        """Args:
        engine: The engine authentication reads on.
        """
        self._engine = engine

    async def authenticate(self, system_key: str, secret: str) -> SystemIdentity | None:
        """The identity of an active system whose secret matches, else None.

        An unknown key still pays for one hash comparison, so timing does not reveal which keys exist.
        """
        async with guarded(), self._engine.connect() as connection:
            row = (await connection.execute(_SYSTEM, {"key": system_key})).first()
        return _identity(row, secret)

    async def authenticate_upload(self, system_key: str, secret: str) -> Standing | None:
        """The identity, the org's usage and the system's stored backups, in one query (a row per stored
        backup, or one with NULL backup columns when there is none)."""
        async with guarded(), self._engine.connect() as connection:
            rows: Sequence[Any] = (await connection.execute(_STANDING, {"key": system_key})).all()
        identity = _identity(rows[0] if rows else None, secret)
        if identity is None:
            return None
        first = rows[0]
        return Standing(
            identity=identity,
            usage=OrgUsage(
                used_bytes=first.used_bytes,
                quota_override=first.quota_bytes,
                retention=policy_of(first.keep_last, first.keep_daily, first.keep_weekly, first.keep_monthly),
            ),
            stored=tuple(backup_of(row._mapping, "b_") for row in rows if row.b_id is not None),
        )


_SYSTEM_COLUMNS = (SystemRow.id, SystemRow.system_key, SystemRow.org_id, SystemRow.secret_hash, SystemRow.suspended)
_SYSTEM = select(*_SYSTEM_COLUMNS).where(SystemRow.system_key == bindparam("key"))
_POLICY_COLUMNS = (
    OrganizationRow.keep_last,
    OrganizationRow.keep_daily,
    OrganizationRow.keep_weekly,
    OrganizationRow.keep_monthly,
)
_BACKUP_COLUMNS = tuple(column.label(f"b_{column.key}") for column in BackupRow.__table__.columns)
_STANDING = (
    select(
        *_SYSTEM_COLUMNS, OrganizationRow.used_bytes, OrganizationRow.quota_bytes, *_POLICY_COLUMNS, *_BACKUP_COLUMNS
    )
    .join(OrganizationRow, OrganizationRow.id == SystemRow.org_id)
    .outerjoin(BackupRow, and_(BackupRow.system_id == SystemRow.id, BackupRow.state == BackupState.STORED.value))
    .where(SystemRow.system_key == bindparam("key"))
    .order_by(BackupRow.id)
)


def _identity(row: Row[Any] | Row[str, str, str, str, bool] | None, secret: str) -> SystemIdentity | None:
    """The identity when `row` is an active system whose secret matches; the hash comparison is paid
    for a missing row too."""
    if not verify_secret(secret, row.secret_hash if row is not None else None):
        return None
    # verify_secret is False for a missing row; the check also narrows the type.
    if row is None or row.suspended:
        return None
    return SystemIdentity(system_id=row.id, system_key=row.system_key, org_id=row.org_id)
