"""Rows the contract suites build through the ports themselves."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from uuid6 import uuid7

from domain.credentials import hash_secret
from domain.model import Backup, BackupState, Organization, SystemIdentity
from domain.ports import SystemDirectory

SECRET = "correct horse battery staple"


async def new_org(directory: SystemDirectory, quota: int | None = None, name: str = "Acme") -> str:
    org_id = str(uuid7())
    await directory.create_org(Organization(id=org_id, name=name, quota_bytes=quota))
    return org_id


async def new_system(directory: SystemDirectory, org_id: str, key: str | None = None) -> SystemIdentity:
    identity = SystemIdentity(system_id=str(uuid7()), system_key=key or f"sys_{secrets.token_hex(4)}", org_id=org_id)
    await directory.create_system(identity, hash_secret(SECRET))
    return identity


def now() -> datetime:
    """The commit time the contract suites pass to `commit_upload`."""
    return datetime.now(UTC)


def intent(who: SystemIdentity, size: int, uploaded_at: datetime | None = None) -> Backup:
    """An *uploading* row, as the ingest use case begins it."""
    backup_id = f"{uuid7()}.tar.gz"
    return Backup(
        id=backup_id,
        system_id=who.system_id,
        org_id=who.org_id,
        object_key=f"{who.org_id}/{who.system_key}/{backup_id}",
        filename="daily.tar.gz",
        envelope=".gpg",
        size=size,
        sha256=secrets.token_hex(32),  # every intent a body of its own: equal bodies settle as duplicates
        mimetype="application/gzip",
        # Microseconds survive every backend; the value must come back equal.
        uploaded_at=uploaded_at or datetime.now(UTC),
        state=BackupState.UPLOADING,
        uploader_ip="2001:db8::7",  # read back exactly, like every other field
    )
