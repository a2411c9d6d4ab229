"""Operator use cases: create organizations and systems."""

from __future__ import annotations

from dataclasses import dataclass

from domain.credentials import check_system_key, hash_secret, new_secret, new_system_key
from domain.errors import InvalidInput, NotFound
from domain.model import NewSystem, Organization, SystemIdentity
from domain.ports import IdFactory, SystemDirectory


@dataclass(frozen=True, slots=True, kw_only=True)
class Registry:
    """Creates tenants and the credentials appliances upload with."""

    directory: SystemDirectory
    ids: IdFactory

    async def create_org(self, name: str, quota_bytes: int | None = None) -> Organization:
        name = name.strip()
        if not name:
            raise InvalidInput("name", "must not be empty", name)
        if quota_bytes is not None and quota_bytes < 0:
            raise InvalidInput("quota_bytes", "must be 0 (no quota) or positive", str(quota_bytes))
        org = Organization(id=self.ids.new_id(), name=name, quota_bytes=quota_bytes)
        await self.directory.create_org(org)
        return org

    async def create_system(self, org_id: str, system_key: str | None = None) -> NewSystem:
        """The secret is returned once and only its salted hash is kept."""
        if await self.directory.get_org(org_id) is None:
            raise NotFound(f"organization {org_id} not found")
        key = check_system_key(system_key) if system_key is not None else new_system_key()
        secret = new_secret()
        identity = SystemIdentity(system_id=self.ids.new_id(), system_key=key, org_id=org_id)
        await self.directory.create_system(identity, hash_secret(secret))
        return NewSystem(system_key=key, system_secret=secret, org_id=org_id)
