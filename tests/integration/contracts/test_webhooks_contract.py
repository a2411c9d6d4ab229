"""WebhookStore contract: webhooks, deliveries and the readers' cursors behave alike in memory, on SQLite
and on PostgreSQL; each change's log entry is written with it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain.events import EventType, NewEvent
from domain.ports import WebhookStore
from domain.webhooks import Delivery, DeliveryState, Format, Webhook
from tests.integration.services import Ledger

T0 = datetime(2026, 4, 12, 9, 0, 0, 250_000, tzinfo=UTC)


def _hook(n: int, org_id: str | None = None) -> Webhook:
    return Webhook(
        id=f"wh-{n}",
        url=f"https://hooks.example.org/{n}",
        org_id=org_id,
        events=(EventType.SYSTEM_DOWN, EventType.SYSTEM_RECOVERED),
        format=Format.NTFY,
        secret="whsec_c2VjcmV0",
        created_at=T0,
    )


def _event(kind: EventType, hook: str) -> NewEvent:
    return NewEvent(at=T0, type=kind, org_id=None, detail={"webhook_id": hook})


def _delivery(hook: str, seq: int, at: datetime = T0) -> Delivery:
    return Delivery(webhook_id=hook, seq=seq, state=DeliveryState.PENDING, attempts=0, next_try_at=at, created_at=T0)


async def test_webhooks_are_added_read_and_removed_with_their_log_entries(
    webhook_store: WebhookStore, ledger: Ledger
) -> None:
    assert ledger.events is not None
    first, second = _hook(1), _hook(2, "org-1")
    await webhook_store.add(first, _event(EventType.WEBHOOK_ADDED, first.id))
    await webhook_store.add(second, _event(EventType.WEBHOOK_ADDED, second.id))
    assert await webhook_store.all() == [first, second]
    assert await webhook_store.get("wh-2") == second
    assert await webhook_store.get("nope") is None
    assert await webhook_store.test("wh-1", _event(EventType.TEST, "wh-1"))
    assert not await webhook_store.test("nope", _event(EventType.TEST, "nope"))
    assert await webhook_store.remove("wh-1", _event(EventType.WEBHOOK_REMOVED, "wh-1"))
    assert not await webhook_store.remove("wh-1", _event(EventType.WEBHOOK_REMOVED, "wh-1"))
    assert await webhook_store.all() == [second]
    logged = [(e.type, e.detail["webhook_id"]) for e in await ledger.events.events_after(-1, 100)]
    assert logged == [
        (EventType.WEBHOOK_ADDED, "wh-1"),
        (EventType.WEBHOOK_ADDED, "wh-2"),
        (EventType.TEST, "wh-1"),
        (EventType.WEBHOOK_REMOVED, "wh-1"),
    ]


async def test_enqueue_moves_the_cursor_once_and_due_deliveries_come_in_event_order(
    webhook_store: WebhookStore,
) -> None:
    hook = _hook(1)
    await webhook_store.add(hook, _event(EventType.WEBHOOK_ADDED, hook.id))
    assert await webhook_store.cursor("notifier") == -1
    await webhook_store.enqueue("notifier", -1, 5, [_delivery("wh-1", 5), _delivery("wh-1", 3)])
    assert await webhook_store.cursor("notifier") == 5
    # A racing replica that read the old cursor queues nothing.
    await webhook_store.enqueue("notifier", -1, 5, [_delivery("wh-1", 4)])
    await webhook_store.enqueue("notifier", 5, 9, [_delivery("wh-1", 9, T0 + timedelta(minutes=1))])
    assert await webhook_store.cursor("notifier") == 9
    assert [d.seq for d in await webhook_store.due(T0, 10)] == [3, 5]
    assert [d.seq for d in await webhook_store.due(T0 + timedelta(minutes=1), 2)] == [3, 5]
    tried = replace(
        _delivery("wh-1", 3),
        attempts=1,
        last_status=500,
        last_error="HTTP 500",
        next_try_at=T0 + timedelta(seconds=10),
    )
    await webhook_store.record(tried)
    done = replace(_delivery("wh-1", 5), attempts=1, state=DeliveryState.DELIVERED, last_status=200, done_at=T0)
    await webhook_store.record(done)
    assert [d.seq for d in await webhook_store.due(T0, 10)] == []
    assert await webhook_store.deliveries("wh-1", 10) == [_delivery("wh-1", 9, T0 + timedelta(minutes=1)), done, tried]
    assert await webhook_store.deliveries("wh-1", 1) == [_delivery("wh-1", 9, T0 + timedelta(minutes=1))]
    assert await webhook_store.remove("wh-1", _event(EventType.WEBHOOK_REMOVED, "wh-1"))
    assert await webhook_store.deliveries("wh-1", 10) == []
    assert await webhook_store.due(T0 + timedelta(hours=1), 10) == []
