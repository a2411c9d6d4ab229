"""Ports: what the alerts read (each system's health) and keep (webhooks and their deliveries)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.events import NewEvent
from domain.health import LastError, ScheduleOverride, SystemFacts
from domain.webhooks import Delivery, Webhook


class SystemHealth(Protocol):
    """What the state rule reads (`domain.health`), and the schedules and refusals it reads them from.
    Raises CatalogUnavailable when the database fails."""

    async def facts(self, org_id: str | None = None, system_key: str | None = None) -> list[SystemFacts]:
        """The facts of every system, of one organization's, or of the one system with this key, ordered
        by system key; one query, whatever the fleet. An unknown org or key gives []."""
        ...

    async def record_refusal(self, system_id: str, error: LastError) -> None:
        """Keep `error` as the system's newest refusal (replacing the one before) and count it. Absent
        ids: no-op."""
        ...

    async def refusals_since(self, since: datetime) -> dict[str, int]:
        """How many refusals each system had at or after `since`, by system id (none: absent)."""
        ...

    async def set_system_schedule(
        self, system_key: str, schedule: ScheduleOverride, event: NewEvent | None = None
    ) -> None:
        """Replace the system's own schedule, appending `event` (`system.schedule_changed`) in the same
        transaction. Raises NotFound for an unknown key."""
        ...

    async def set_org_schedule(self, org_id: str, schedule: ScheduleOverride) -> None:
        """Replace the organization's own schedule. Raises NotFound for an unknown id."""
        ...

    async def announce(self, changes: Sequence[tuple[str, str]], events: Sequence[NewEvent]) -> None:
        """In one transaction: set each (system id, state) as the system's announced state and append
        `events` (the transitions' alerts) to the event log."""
        ...


@dataclass(frozen=True, slots=True)
class SentAnswer:
    """How one try went: the receiver's status, or None and why when no answer came."""

    status: int | None
    error: str | None = None


class WebhookSender(Protocol):
    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SentAnswer:
        """POST once with a 10 s timeout, following no redirect. Never raises: a refused connection, a
        reset or a timeout is an answer without a status."""
        ...


class WebhookStore(Protocol):
    """Webhooks, their deliveries and the notifier's cursor. Raises CatalogUnavailable when the database
    fails. Each change appends its event log entries in its own transaction."""

    async def add(self, hook: Webhook, event: NewEvent) -> None: ...

    async def remove(self, webhook_id: str, event: NewEvent) -> bool:
        """Remove the webhook and its deliveries; False (nothing written) when there is none."""
        ...

    async def get(self, webhook_id: str) -> Webhook | None: ...

    async def all(self) -> list[Webhook]:
        """Every webhook, oldest first."""
        ...

    async def deliveries(self, webhook_id: str, limit: int) -> list[Delivery]:
        """The webhook's deliveries, newest event first."""
        ...

    async def test(self, webhook_id: str, event: NewEvent) -> bool:
        """Append `event` (type `test`) when the webhook exists; False otherwise."""
        ...

    async def cursor(self, name: str) -> int:
        """The last event seq the reader `name` has queued (-1 before the first)."""
        ...

    async def enqueue(self, name: str, after: int, upto: int, deliveries: Sequence[Delivery]) -> None:
        """In one transaction: move `name`'s cursor from `after` to `upto` and insert `deliveries` (one per
        webhook and seq, at most). When the cursor is no longer at `after` (another replica queued them),
        nothing is written."""
        ...

    async def due(self, now: datetime, limit: int) -> list[Delivery]:
        """Pending deliveries whose next try is at or before `now`, oldest event first."""
        ...

    async def record(self, delivery: Delivery) -> None:
        """Store a try's outcome (attempts, state, next try, last status and error)."""
        ...
