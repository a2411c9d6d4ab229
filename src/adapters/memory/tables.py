"""The in-memory database: the tables the in-memory adapters share, as the SQL adapters share one engine.

Keeping them in one place lets each fake enforce what the SQL schema enforces across tables: a backup row
needs its system (foreign key), a system with backup rows cannot be deleted, ids and object keys are unique.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.events import Event, NewEvent
from domain.health import LastError, ScheduleOverride
from domain.model import Backup, Organization, SystemIdentity
from domain.ports import StoredCheckpoint
from domain.webhooks import Delivery, Webhook


@dataclass
class SystemEntry:
    identity: SystemIdentity
    secret_hash: str
    suspended: bool = False
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    schedule: ScheduleOverride = field(default_factory=ScheduleOverride)
    last_error: LastError | None = None
    notified: str | None = None


@dataclass
class Tables:
    orgs: dict[str, Organization] = field(default_factory=dict)
    systems: dict[str, SystemEntry] = field(default_factory=dict)
    """By system key."""
    backups: dict[str, Backup] = field(default_factory=dict)
    used: dict[str, int] = field(default_factory=dict)
    """Each organization's committed bytes."""
    org_schedules: dict[str, ScheduleOverride] = field(default_factory=dict)
    """Each organization's own schedule, by id (absent: none)."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Serialises the ledger's read-modify-write transactions, as the org row lock does in SQL."""
    leases: dict[str, asyncio.Lock] = field(default_factory=dict)
    """Maintenance leases by name, like PostgreSQL's advisory locks: one holder per database."""

    events: list[Event] = field(default_factory=list)
    """The event log: entry `seq` = i at index i."""
    checkpoints: list[StoredCheckpoint] = field(default_factory=list)
    leaf_hashes: list[bytes] = field(default_factory=list)
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    deliveries: dict[tuple[str, int], Delivery] = field(default_factory=dict)
    """By webhook id and event seq."""
    cursors: dict[str, int] = field(default_factory=dict)
    refusals: list[tuple[str, datetime]] = field(default_factory=list)
    """Each refused upload: system id and time."""

    def append_events(self, new: list[NewEvent]) -> int:
        """Append a change's entries with the next seqs. The in-memory adapters call it in the same
        synchronous step as the change itself, which is what the SQL transaction gives."""
        first = len(self.events)
        self.events.extend(Event.of(first + i, event) for i, event in enumerate(new))
        return first

    def system_by_id(self, system_id: str) -> SystemEntry | None:
        return next((s for s in self.systems.values() if s.identity.system_id == system_id), None)
