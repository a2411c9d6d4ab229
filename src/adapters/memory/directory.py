"""In-memory SystemDirectory: for unit tests and the zero-setup demo."""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.credentials import verify_secret
from domain.errors import Conflict, NotFound
from domain.model import Organization, SystemIdentity, SystemRecord


@dataclass
class _System:
    identity: SystemIdentity
    secret_hash: str
    suspended: bool = False


class InMemorySystemDirectory:
    def __init__(self) -> None:
        self.orgs: dict[str, Organization] = {}
        self.systems: dict[str, _System] = {}

    async def authenticate(self, system_key: str, secret: str) -> SystemIdentity | None:
        system = self.systems.get(system_key)
        ok = verify_secret(secret, system.secret_hash if system else None)
        if system is None or not ok or system.suspended:
            return None
        return system.identity

    async def create_org(self, org: Organization) -> None:
        self.orgs[org.id] = org

    async def get_org(self, org_id: str) -> Organization | None:
        return self.orgs.get(org_id)

    async def create_system(self, identity: SystemIdentity, secret_hash: str) -> None:
        if identity.org_id not in self.orgs:
            raise NotFound(f"organization {identity.org_id} not found")
        if identity.system_key in self.systems:
            raise Conflict(f"system {identity.system_key} exists")
        self.systems[identity.system_key] = _System(identity, secret_hash)

    async def set_suspended(self, system_key: str, suspended: bool) -> None:
        if system_key not in self.systems:
            raise NotFound(f"system {system_key} not found")
        self.systems[system_key].suspended = suspended

    async def list_orgs(self) -> list[Organization]:
        return sorted(self.orgs.values(), key=lambda o: o.id)

    async def set_org_quota(self, org_id: str, quota_bytes: int | None) -> Organization:
        if org_id not in self.orgs:
            raise NotFound(f"organization {org_id} not found")
        self.orgs[org_id] = replace(self.orgs[org_id], quota_bytes=quota_bytes)
        return self.orgs[org_id]

    async def get_system(self, system_key: str) -> SystemRecord | None:
        system = self.systems.get(system_key)
        return None if system is None else SystemRecord(identity=system.identity, suspended=system.suspended)

    async def list_systems(self, org_id: str | None = None) -> list[SystemRecord]:
        return [
            SystemRecord(identity=s.identity, suspended=s.suspended)
            for key, s in sorted(self.systems.items())
            if org_id is None or s.identity.org_id == org_id
        ]

    async def set_secret(self, system_key: str, secret_hash: str) -> None:
        if system_key not in self.systems:
            raise NotFound(f"system {system_key} not found")
        self.systems[system_key].secret_hash = secret_hash

    async def delete_system(self, system_key: str) -> None:
        self.systems.pop(system_key, None)
