"""Operator use cases: create organizations and systems, and manage their credentials."""

from __future__ import annotations

from dataclasses import dataclass

from domain.credentials import check_system_key, hash_secret, new_secret, new_system_key
from domain.errors import InvalidInput, NotFound
from domain.model import NewSystem, Organization, SystemIdentity
from domain.ports import Clock, IdFactory, SystemDirectory
from domain.sizes import check_quota

MAX_ORG_NAME = 200


def check_org_name(name: str) -> str:
    """An organization's name, trimmed: 1-200 printable characters (no control characters)."""
    name = name.strip()
    if not name:
        raise InvalidInput("name", "must not be empty", name)
    if len(name) > MAX_ORG_NAME:
        raise InvalidInput("name", f"at most {MAX_ORG_NAME} characters", name[:MAX_ORG_NAME])
    if not name.isprintable():
        raise InvalidInput("name", "only printable characters", name.encode("unicode_escape").decode()[:MAX_ORG_NAME])
    return name


@dataclass(frozen=True, slots=True)
class NewOrg:
    """`org create`: `{"id", "name", "quota_bytes"}`."""

    id: str
    name: str
    quota_bytes: int | None


@dataclass(frozen=True, slots=True)
class RotatedSecret:
    """A system's new one-time plaintext secret; the old one fails from now on."""

    system_key: str
    system_secret: str


@dataclass(frozen=True, slots=True)
class Suspension:
    """Whether a system may authenticate; a suspended one gets 401."""

    system_key: str
    suspended: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Registry:
    """Creates tenants and the credentials appliances upload with."""

    directory: SystemDirectory
    ids: IdFactory
    clock: Clock

    async def create_org(self, name: str, quota_bytes: int | None = None) -> NewOrg:
        """A new organization following the default retention policy."""
        name = check_org_name(name)
        check_quota(quota_bytes)
        org = Organization(id=self.ids.new_id(), name=name, quota_bytes=quota_bytes)
        await self.directory.create_org(org)
        return NewOrg(id=org.id, name=org.name, quota_bytes=org.quota_bytes)

    async def create_system(self, org_id: str, system_key: str | None = None) -> NewSystem:
        """The secret is returned once and only its salted hash is kept."""
        if await self.directory.get_org(org_id) is None:
            raise NotFound(f"organization {org_id} not found")
        key = check_system_key(system_key) if system_key is not None else new_system_key()
        secret = new_secret()
        identity = SystemIdentity(system_id=self.ids.new_id(), system_key=key, org_id=org_id)
        await self.directory.create_system(identity, hash_secret(secret), self.clock.now())
        return NewSystem(system_key=key, system_secret=secret, org_id=org_id)

    async def rotate_secret(self, system_key: str) -> RotatedSecret:
        """Replace the secret; only its salted hash is kept. Raises NotFound for an unknown key."""
        secret = new_secret()
        await self.directory.set_secret(system_key, hash_secret(secret))
        return RotatedSecret(system_key=system_key, system_secret=secret)

    async def set_suspended(self, system_key: str, suspended: bool) -> Suspension:
        """Suspend or resume a system. Raises NotFound for an unknown key."""
        await self.directory.set_suspended(system_key, suspended)
        return Suspension(system_key=system_key, suspended=suspended)
