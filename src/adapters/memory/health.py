"""In-memory SystemHealth: the state rule's facts from the shared tables, as the SQL query reads them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from adapters.memory.tables import SystemEntry, Tables
from domain.errors import NotFound
from domain.events import NewEvent
from domain.health import LastError, ScheduleOverride, SystemFacts
from domain.model import BackupState


class InMemorySystemHealth:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def facts(self, org_id: str | None = None, system_key: str | None = None) -> list[SystemFacts]:
        chosen = [
            entry
            for key, entry in self.tables.systems.items()
            if (org_id is None or entry.identity.org_id == org_id) and (system_key is None or key == system_key)
        ]
        return [self._facts(entry) for entry in sorted(chosen, key=lambda e: e.identity.system_key)]

    def _facts(self, entry: SystemEntry) -> SystemFacts:
        who = entry.identity
        stored = [
            b for b in self.tables.backups.values() if b.system_id == who.system_id and b.state is BackupState.STORED
        ]
        return SystemFacts(
            identity=who,
            suspended=entry.suspended,
            created_at=entry.created_at,
            backups=len(stored),
            total_size=sum(b.size for b in stored),
            last_backup_at=max((b.uploaded_at for b in stored), default=None),
            last_error=entry.last_error,
            own=entry.schedule,
            org=self.tables.org_schedules.get(who.org_id, ScheduleOverride()),
            notified=entry.notified,
        )

    async def record_refusal(self, system_id: str, error: LastError) -> None:
        entry = self.tables.system_by_id(system_id)
        if entry is not None:
            entry.last_error = replace(error)
            self.tables.refusals.append((system_id, error.at))

    async def refusals_since(self, since: datetime) -> dict[str, int]:
        counts: dict[str, int] = {}
        for system_id, at in self.tables.refusals:
            if at >= since:
                counts[system_id] = counts.get(system_id, 0) + 1
        return counts

    async def set_system_schedule(
        self, system_key: str, schedule: ScheduleOverride, event: NewEvent | None = None
    ) -> None:
        entry = self.tables.systems.get(system_key)
        if entry is None:
            raise NotFound(f"system {system_key} not found")
        entry.schedule = schedule
        if event is not None:
            self.tables.append_events([event])

    async def set_org_schedule(self, org_id: str, schedule: ScheduleOverride) -> None:
        if org_id not in self.tables.orgs:
            raise NotFound(f"organization {org_id} not found")
        self.tables.org_schedules[org_id] = schedule

    async def announce(self, changes: Sequence[tuple[str, str]], events: Sequence[NewEvent]) -> None:
        for system_id, state in changes:
            entry = self.tables.system_by_id(system_id)
            if entry is not None:
                entry.notified = state
        self.tables.append_events(list(events))
