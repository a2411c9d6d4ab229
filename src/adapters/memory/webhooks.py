"""In-memory WebhookStore: webhooks, deliveries and cursors in the shared tables, each change with its log
entries in one synchronous step (what the SQL transaction gives)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from adapters.memory.tables import Tables
from domain.events import NewEvent
from domain.webhooks import Delivery, DeliveryState, Webhook


class InMemoryWebhookStore:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def add(self, hook: Webhook, event: NewEvent) -> None:
        self.tables.webhooks[hook.id] = hook
        self.tables.append_events([event])

    async def remove(self, webhook_id: str, event: NewEvent) -> bool:
        if self.tables.webhooks.pop(webhook_id, None) is None:
            return False
        for key in [k for k in self.tables.deliveries if k[0] == webhook_id]:
            del self.tables.deliveries[key]
        self.tables.append_events([event])
        return True

    async def get(self, webhook_id: str) -> Webhook | None:
        return self.tables.webhooks.get(webhook_id)

    async def all(self) -> list[Webhook]:
        return sorted(self.tables.webhooks.values(), key=lambda h: h.id)

    async def deliveries(self, webhook_id: str, limit: int) -> list[Delivery]:
        mine = [d for (hook, _), d in self.tables.deliveries.items() if hook == webhook_id]
        return sorted(mine, key=lambda d: -d.seq)[:limit]

    async def test(self, webhook_id: str, event: NewEvent) -> bool:
        if webhook_id not in self.tables.webhooks:
            return False
        self.tables.append_events([event])
        return True

    async def cursor(self, name: str) -> int:
        return self.tables.cursors.get(name, -1)

    async def enqueue(self, name: str, after: int, upto: int, deliveries: Sequence[Delivery]) -> None:
        if self.tables.cursors.get(name, -1) != after:
            return
        self.tables.cursors[name] = upto
        for delivery in deliveries:
            self.tables.deliveries.setdefault((delivery.webhook_id, delivery.seq), delivery)

    async def due(self, now: datetime, limit: int) -> list[Delivery]:
        due = [d for d in self.tables.deliveries.values() if d.state is DeliveryState.PENDING and d.next_try_at <= now]
        return sorted(due, key=lambda d: (d.seq, d.webhook_id))[:limit]

    async def record(self, delivery: Delivery) -> None:
        key = (delivery.webhook_id, delivery.seq)
        if key in self.tables.deliveries:
            self.tables.deliveries[key] = delivery
