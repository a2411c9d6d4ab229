"""Operator use cases on webhooks: add, list, remove, test one, see its deliveries (CLI, admin API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import NotFound
from domain.events import Actor, EventType, NewEvent, Via
from domain.ports import Clock, IdFactory, SystemDirectory, WebhookStore
from domain.webhooks import Delivery, Webhook, check_events, check_format, check_url, new_secret


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookOut:
    """`webhook list` (and `add`, with its secret). Field names are the JSON keys of SPEC."""

    id: str
    url: str
    org_id: str | None
    events: list[str]
    format: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AddedWebhook:
    """`webhook add`: the signing secret is shown this once."""

    id: str
    url: str
    org_id: str | None
    events: list[str]
    format: str
    secret: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryOut:
    seq: int
    state: str
    attempts: int
    next_try_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class Queued:
    id: str
    queued: bool = True


@dataclass(frozen=True, slots=True)
class Removed:
    id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookAdmin:
    store: WebhookStore
    directory: SystemDirectory
    ids: IdFactory
    clock: Clock

    async def add(
        self,
        url: str,
        org_id: str | None = None,
        events: list[str] | None = None,
        fmt: str = "standard",
        via: Via = Via.CLI,
    ) -> AddedWebhook:
        """Raises InvalidInput naming `url`, `events` or `format`; NotFound for an unknown org."""
        hook = Webhook(
            id=self.ids.new_id(),
            url=check_url(url),
            org_id=org_id,
            events=check_events(events),
            format=check_format(fmt),
            secret=new_secret(),
            created_at=self.clock.now(),
        )
        if org_id is not None and await self.directory.get_org(org_id) is None:
            raise NotFound(f"organization {org_id} not found")
        await self.store.add(hook, self._event(EventType.WEBHOOK_ADDED, hook, via))
        out = _out(hook)
        return AddedWebhook(
            id=out.id, url=out.url, org_id=out.org_id, events=out.events, format=out.format, secret=hook.secret
        )

    async def list_webhooks(self) -> list[WebhookOut]:
        return [_out(hook) for hook in await self.store.all()]

    async def remove(self, webhook_id: str, via: Via = Via.CLI) -> Removed:
        hook = await self._hook(webhook_id)
        if not await self.store.remove(webhook_id, self._event(EventType.WEBHOOK_REMOVED, hook, via)):
            raise NotFound(f"webhook {webhook_id} not found")
        return Removed(webhook_id)

    async def test(self, webhook_id: str) -> Queued:
        """Queue a `test` event for this webhook alone; the notifier sends it at its next pass."""
        hook = await self._hook(webhook_id)
        event = NewEvent(
            at=self.clock.now(),
            type=EventType.TEST,
            org_id=hook.org_id,
            actor=Actor.OPERATOR,
            detail={"webhook_id": hook.id},
        )
        if not await self.store.test(webhook_id, event):
            raise NotFound(f"webhook {webhook_id} not found")
        return Queued(webhook_id)

    async def deliveries(self, webhook_id: str, limit: int = 100) -> list[DeliveryOut]:
        await self._hook(webhook_id)
        return [_delivery(d) for d in await self.store.deliveries(webhook_id, limit)]

    async def _hook(self, webhook_id: str) -> Webhook:
        hook = await self.store.get(webhook_id)
        if hook is None:
            raise NotFound(f"webhook {webhook_id} not found")
        return hook

    def _event(self, kind: EventType, hook: Webhook, via: Via) -> NewEvent:
        # The URL may carry a token in its path or query: the log keeps only its scheme and host.
        host = hook.url.split("/")[2].rsplit("@", 1)[-1] if "//" in hook.url else ""
        detail = {"webhook_id": hook.id, "host": host, "format": hook.format.value, "via": via.value}
        return NewEvent(at=self.clock.now(), type=kind, org_id=hook.org_id, actor=Actor.OPERATOR, detail=detail)


def _out(hook: Webhook) -> WebhookOut:
    return WebhookOut(
        id=hook.id, url=hook.url, org_id=hook.org_id, events=[e.value for e in hook.events], format=hook.format.value
    )


def _delivery(d: Delivery) -> DeliveryOut:
    return DeliveryOut(
        seq=d.seq,
        state=d.state.value,
        attempts=d.attempts,
        next_try_at=d.next_try_at if d.done_at is None else None,
        last_status=d.last_status,
        last_error=d.last_error,
        created_at=d.created_at,
        done_at=d.done_at,
    )
