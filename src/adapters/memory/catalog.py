"""In-memory BackupCatalog: the same ledger semantics as the SQL one, serialised by one lock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from adapters.memory.tables import Tables
from domain import quota
from domain.commit_alerts import commit_alerts
from domain.entries import deleted, protection, pruned_by_policy
from domain.errors import CatalogUnavailable, Conflict, KeyInFlight, NotFound, Protected
from domain.events import Actor, Via, WallClock, commit_events
from domain.ledger import (
    Committed,
    Outcome,
    Pruned,
    check_room,
    check_unprotected,
    plan_apply,
    plan_commit,
    pruned,
    settle,
)
from domain.model import Backup, BackupState, Limits
from domain.ports import Clock, OrgUsage


class InMemoryBackupCatalog:
    """Backup rows and usage in `tables`, which the in-memory directory shares (it holds the orgs)."""

    def __init__(self, tables: Tables, clock: Clock | None = None) -> None:
        self.tables = tables
        self.clock = clock or WallClock()
        self.rows = tables.backups
        self.used = tables.used

    async def org_usage(self, org_id: str) -> OrgUsage:
        org = self.tables.orgs.get(org_id)
        if org is None:
            raise NotFound(f"organization {org_id} not found")
        return OrgUsage(self.used.get(org_id, 0), org.quota_bytes, org.retention)

    async def stored_backups(self, system_id: str) -> list[Backup]:
        return self._stored(system_id)

    def _stored(self, system_id: str) -> list[Backup]:
        return sorted(
            (b for b in self.rows.values() if b.system_id == system_id and b.state is BackupState.STORED),
            key=lambda b: b.id,
        )

    async def begin_upload(self, intent: Backup) -> None:
        """Raises KeyInFlight for a key another intent of the system carries (SQL's partial unique
        index), Conflict for a taken id or object key, or an unknown system (SQL's foreign key)."""
        taken = intent.id in self.rows or any(b.object_key == intent.object_key for b in self.rows.values())
        if taken or self.tables.system_by_id(intent.system_id) is None:
            raise Conflict(f"backup {intent.id} exists already")
        key = intent.idempotency_key
        if key is not None and any(
            b.system_id == intent.system_id and b.idempotency_key == key and b.state is BackupState.UPLOADING
            for b in self.rows.values()
        ):
            raise KeyInFlight(key)
        self.rows[intent.id] = replace(intent, state=BackupState.UPLOADING, committed_at=None)

    async def commit_upload(self, backup: Backup, limits: Limits, now: datetime) -> Committed:
        """Only an intent still *uploading* commits; only its size and sha256 come from `backup`."""
        async with self.tables.lock:
            intent = self.rows.get(backup.id)
            org = self.tables.orgs.get(backup.org_id)
            if org is None or intent is None or intent.state is not BackupState.UPLOADING:
                raise CatalogUnavailable(f"no upload intent {backup.id} to commit")
            incoming = replace(intent, size=backup.size, sha256=backup.sha256)
            stored = self._stored(intent.system_id)
            settled = settle(incoming, stored, now)
            if settled is not None:
                dropped = replace(incoming, state=BackupState.DELETING)
                self.rows[backup.id] = dropped
                outcome, existing = settled
                answer = Committed(existing, outcome, [], dropped=dropped)
                return replace(answer, seq=self.tables.append_events(commit_events(answer, now)))
            plan = plan_commit(
                stored=stored,
                incoming_id=backup.id,
                incoming_size=backup.size,
                incoming_at=incoming.uploaded_at,
                used_bytes=self.used.get(org.id, 0),
                quota_override=org.quota_bytes,
                limits=limits,
                policy=org.retention,
            )
            state = BackupState.DELETING if plan.superseded else BackupState.STORED
            self.rows[backup.id] = replace(incoming, state=state, committed_at=now)
            for victim in plan.victims:
                self.rows[victim.id] = replace(victim, state=BackupState.DELETING)
            done = replace(incoming, state=BackupState.STORED, committed_at=now)
            committed = Committed(done, Outcome.STORED, pruned(plan, done), rules=plan.rules)
            used_before = self.used.get(org.id, 0)
            self.used[org.id] = plan.used_after
            alerts = (
                []
                if plan.superseded
                else commit_alerts(
                    backup=done,
                    previous=stored,
                    ratio=limits.size_anomaly_ratio,
                    used_before=used_before,
                    used_after=plan.used_after,
                    quota=quota.effective_quota(org.quota_bytes, limits.max_size_per_org),
                    at=now,
                )
            )
            return replace(committed, seq=self.tables.append_events([*commit_events(committed, now), *alerts]))

    async def keep_alive(self, backup_id: str, at: datetime) -> None:
        row = self.rows.get(backup_id)
        if row is not None and row.state is BackupState.UPLOADING:
            self.rows[backup_id] = replace(row, alive_at=at)

    async def abort_upload(self, backup_id: str) -> None:
        row = self.rows.get(backup_id)
        if row is not None and row.state is BackupState.UPLOADING:
            del self.rows[backup_id]

    async def finish_deletion(self, backup_ids: Sequence[str]) -> None:
        for backup_id in backup_ids:
            row = self.rows.get(backup_id)
            if row is not None and row.state is BackupState.DELETING:
                del self.rows[backup_id]

    async def get_backup(self, system_id: str, backup_id: str) -> Backup | None:
        row = self.rows.get(backup_id)
        if row is None or row.system_id != system_id or row.state is not BackupState.STORED:
            return None
        return row

    async def begin_deletion(
        self, system_id: str, backup_id: str, by: Actor = Actor.APPLIANCE, via: Via | None = None
    ) -> Backup | None:
        async with self.tables.lock:
            row = await self.get_backup(system_id, backup_id)
            if row is None:
                return None
            if row.protected:
                raise Protected(f"backup {backup_id} is protected; unprotect it first", backup_id)
            self.rows[backup_id] = replace(row, state=BackupState.DELETING)
            self.used[row.org_id] = self.used.get(row.org_id, 0) - row.size
            self.tables.append_events([deleted(self.rows[backup_id], self.clock.now(), by, via)])
            return self.rows[backup_id]

    async def begin_system_deletion(
        self, system_id: str, via: Via | None = None, include_protected: bool = False
    ) -> list[Backup]:
        async with self.tables.lock:
            rows = sorted((b for b in self.rows.values() if b.system_id == system_id), key=lambda b: b.id)
            check_unprotected([b for b in rows if b.state is BackupState.STORED], include_protected)
            now = self.clock.now()
            gone = [deleted(row, now, Actor.OPERATOR, via) for row in rows if row.state is BackupState.STORED]
            for row in rows:
                if row.state is BackupState.STORED:
                    self.used[row.org_id] = self.used.get(row.org_id, 0) - row.size
                self.rows[row.id] = replace(row, state=BackupState.DELETING)
            self.tables.append_events(gone)
            return [self.rows[row.id] for row in rows]

    async def set_protection(
        self,
        system_id: str,
        backup_id: str,
        note: str | None,
        *,
        protected: bool,
        max_protected: int,
        via: Via | None = None,
    ) -> Backup | None:
        async with self.tables.lock:
            row = await self.get_backup(system_id, backup_id)
            if row is None:
                return None
            check_room(self._stored(system_id), row, protected, max_protected)
            changed = self.rows[backup_id] = replace(
                row, protected=protected, protected_note=note if protected else None
            )
            self.tables.append_events([protection(changed, self.clock.now(), via)])
            return changed

    async def apply_retention(self, system_id: str, limits: Limits) -> Pruned:
        async with self.tables.lock:
            entry = self.tables.system_by_id(system_id)
            org = None if entry is None else self.tables.orgs.get(entry.identity.org_id)
            if org is None:
                return Pruned([])
            stored = self._stored(system_id)
            rules = plan_apply(stored, limits, org.retention)
            pruned = [replace(b, state=BackupState.DELETING) for b in stored if b.id in rules]
            for row in pruned:
                self.rows[row.id] = row
                self.used[row.org_id] = self.used.get(row.org_id, 0) - row.size
            done = Pruned(pruned, rules)
            self.tables.append_events(pruned_by_policy(done, self.clock.now()))
            return done

    async def ping(self) -> None:
        return None
