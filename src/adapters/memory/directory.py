"""In-memory SystemDirectory: for unit tests and the zero-setup demo."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from adapters.memory.tables import SystemEntry, Tables
from domain.credentials import verify_secret
from domain.entries import org_event, system_event
from domain.errors import Conflict, NotFound
from domain.events import EventType, WallClock
from domain.model import BackupState, Organization, RetentionPolicy, SystemIdentity, SystemRecord
from domain.ports import Clock, OrgUsage, Standing


class InMemorySystemDirectory:
    """`tables` is the in-memory database, shared with the in-memory catalog (a fresh one by default)."""

    def __init__(self, tables: Tables | None = None, clock: Clock | None = None) -> None:
        self.tables = tables or Tables()
        self.clock = clock or WallClock()
        self.orgs = self.tables.orgs
        self.systems = self.tables.systems

    async def authenticate(self, system_key: str, secret: str) -> SystemIdentity | None:
        system = self.systems.get(system_key)
        ok = verify_secret(secret, system.secret_hash if system else None)
        if system is None or not ok or system.suspended:
            return None
        return system.identity

    async def authenticate_upload(self, system_key: str, secret: str) -> Standing | None:
        identity = await self.authenticate(system_key, secret)
        if identity is None:
            return None
        org = self.orgs[identity.org_id]
        mine = (b for b in self.tables.backups.values() if b.system_id == identity.system_id)
        stored = sorted((b for b in mine if b.state is BackupState.STORED), key=lambda b: b.id)
        usage = OrgUsage(self.tables.used.get(org.id, 0), org.quota_bytes, org.retention)
        return Standing(identity=identity, usage=usage, stored=tuple(stored))

    async def create_org(self, org: Organization) -> None:
        if org.id in self.orgs:
            raise Conflict(f"organization {org.id} exists already")
        self.orgs[org.id] = org
        self._log_org(EventType.ORG_CREATED, org)

    async def get_org(self, org_id: str) -> Organization | None:
        return self.orgs.get(org_id)

    async def create_system(
        self, identity: SystemIdentity, secret_hash: str, created_at: datetime | None = None
    ) -> None:
        if identity.org_id not in self.orgs:
            raise NotFound(f"organization {identity.org_id} not found")
        if identity.system_key in self.systems or self.tables.system_by_id(identity.system_id) is not None:
            raise Conflict(f"system {identity.system_key} exists already")
        entry = SystemEntry(identity, secret_hash)
        if created_at is not None:
            entry.created_at = created_at
        self.systems[identity.system_key] = entry
        self._log(EventType.SYSTEM_CREATED, identity)

    async def set_suspended(self, system_key: str, suspended: bool) -> None:
        if system_key not in self.systems:
            raise NotFound(f"system {system_key} not found")
        self.systems[system_key].suspended = suspended
        kind = EventType.SYSTEM_SUSPENDED if suspended else EventType.SYSTEM_RESUMED
        self._log(kind, self.systems[system_key].identity)

    async def list_orgs(self) -> list[Organization]:
        return sorted(self.orgs.values(), key=lambda o: o.id)

    async def set_org_quota(self, org_id: str, quota_bytes: int | None) -> Organization:
        if org_id not in self.orgs:
            raise NotFound(f"organization {org_id} not found")
        org = self.orgs[org_id] = replace(self.orgs[org_id], quota_bytes=quota_bytes)
        self._log_org(EventType.ORG_QUOTA_CHANGED, org)
        return org

    async def set_org_retention(self, org_id: str, policy: RetentionPolicy | None) -> Organization:
        if org_id not in self.orgs:
            raise NotFound(f"organization {org_id} not found")
        org = self.orgs[org_id] = replace(self.orgs[org_id], retention=policy)
        self._log_org(EventType.ORG_RETENTION_CHANGED, org)
        return org

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
        self._log(EventType.SYSTEM_SECRET_ROTATED, self.systems[system_key].identity)

    async def delete_system(self, system_key: str) -> None:
        system = self.systems.get(system_key)
        if system is None:
            return
        if any(b.system_id == system.identity.system_id for b in self.tables.backups.values()):
            raise Conflict(f"system {system_key} still has backups; run the deletion again")
        del self.systems[system_key]
        self._log(EventType.SYSTEM_DESTROYED, system.identity)

    def _log(self, kind: EventType, who: SystemIdentity) -> None:
        self.tables.append_events([system_event(kind, who, self.clock.now())])

    def _log_org(self, kind: EventType, org: Organization) -> None:
        self.tables.append_events([org_event(kind, org, self.clock.now())])
