"""The notifier: reads the event log forward from its own cursor, queues a delivery per webhook and alert,
and sends what is due in the webhook's format (Standard Webhooks signing, Slack, ntfy)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.events import Event, EventType, format_at
from domain.ports import Clock, EventLog, SentAnswer, SystemDirectory, WebhookSender, WebhookStore
from domain.webhooks import Delivery, DeliveryState, Format, RetryPolicy, Webhook, alert_of

log = logging.getLogger(__name__)
CURSOR = "notifier"
_PRIORITY = {EventType.SYSTEM_DOWN: "high", EventType.SYSTEM_FAILING: "high", EventType.BACKUP_VERIFY_FAILED: "high"}
_TAGS = {EventType.SYSTEM_RECOVERED: "white_check_mark", EventType.TEST: "test_tube"}


def payload(event: Event, org_name: str | None, public_url: str | None) -> dict[str, object]:
    """The Standard Webhooks body: `{"type", "timestamp", "data"}`; never a secret (details hold none).
    `type` is the alert the entry is (`backup.verified` with a failed result: `backup.verify_failed`)."""
    data: dict[str, object] = {"org_id": event.org_id, "org_name": org_name, "system_key": event.system_key}
    data |= dict(event.detail)
    if event.backup_id is not None:
        data["backup_id"] = event.backup_id
    if public_url and event.system_key:
        data["console_url"] = f"{public_url.rstrip('/')}/console/systems/{event.system_key}"
    kind = alert_of(event.type, event.detail) or event.type
    return {"type": kind.value, "timestamp": format_at(event.at), "data": data}


def line(body: Mapping[str, object]) -> str:
    """One human line for chat and push formats."""
    data = body["data"]
    assert isinstance(data, dict)  # noqa: S101 - built by payload()
    who = data.get("system_key") or data.get("org_name") or data.get("org_id") or "backup-collect"
    extra = ", ".join(f"{k}={v}" for k, v in data.items() if k not in {"org_id", "org_name", "system_key"})
    return f"[backup-collect] {body['type']}: {who}" + (f" ({extra})" if extra else "")


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks: `v1,` + base64 HMAC-SHA256 over `id.timestamp.body` with the secret's bytes."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def render(hook: Webhook, body: dict[str, object], message_id: str, now: datetime) -> tuple[bytes, dict[str, str]]:
    """The request body and headers of one try in the webhook's format."""
    if hook.format is Format.SLACK:
        return json.dumps({"text": line(body)}).encode(), {"content-type": "application/json"}
    if hook.format is Format.NTFY:
        type_ = EventType(str(body["type"]))
        headers = {
            "content-type": "text/plain; charset=utf-8",
            "Title": f"backup-collect: {type_.value}",
            "Priority": _PRIORITY.get(type_, "default"),
            "Tags": _TAGS.get(type_, "warning"),
        }
        return line(body).encode(), headers
    raw = json.dumps(body, separators=(",", ":")).encode()
    timestamp = int(now.timestamp())
    return raw, {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(hook.secret, message_id, timestamp, raw),
    }


@dataclass(frozen=True, slots=True)
class NotifierPass:
    queued: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0

    def __bool__(self) -> bool:
        return any((self.queued, self.delivered, self.retried, self.failed))

    def __str__(self) -> str:
        return f"{self.queued} queued, {self.delivered} delivered, {self.retried} to retry, {self.failed} failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Notifier:
    """One pass: queue the new alerts, then send every due delivery at once (a hanging receiver holds only
    its own try, for at most the sender's timeout). One replica runs it at a time (the worker's lease)."""

    log: EventLog
    store: WebhookStore
    sender: WebhookSender
    directory: SystemDirectory
    clock: Clock
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    public_url: str | None = None
    counted: Callable[[str], None] = lambda _outcome: None
    """Told `delivered`, `retried` or `failed` for each try (the deliveries metric)."""
    batch: int = 500

    async def __call__(self) -> NotifierPass:
        queued = await self._queue()
        due = await self.store.due(self.clock.now(), self.batch)
        outcomes = await asyncio.gather(*(self._send(d) for d in due))
        return NotifierPass(
            queued=queued,
            delivered=outcomes.count(DeliveryState.DELIVERED),
            retried=outcomes.count(DeliveryState.PENDING),
            failed=outcomes.count(DeliveryState.FAILED),
        )

    async def _queue(self) -> int:
        cursor = await self.store.cursor(CURSOR)
        events = await self.log.events_after(cursor, self.batch)
        if not events:
            return 0
        hooks = await self.store.all()
        now = self.clock.now()
        plan = [
            Delivery(
                webhook_id=h.id, seq=e.seq, state=DeliveryState.PENDING, attempts=0, next_try_at=now, created_at=now
            )
            for e in events
            if (kind := alert_of(e.type, e.detail)) is not None
            for h in hooks
            # A webhook takes what happens from its creation on, not what the log held before it.
            if e.at >= h.created_at and h.takes(kind, e.org_id, e.detail.get("webhook_id"))
        ]
        await self.store.enqueue(CURSOR, cursor, events[-1].seq, plan)
        return len(plan)

    async def _send(self, delivery: Delivery) -> DeliveryState:
        hook = await self.store.get(delivery.webhook_id)
        found = await self.log.events_after(delivery.seq - 1, 1)
        now = self.clock.now()
        if hook is None or not found or found[0].seq != delivery.seq:
            return await self._finish(delivery, now, SentAnswer(None, "webhook or event gone"), give_up=True)
        event = found[0]
        org = None if event.org_id is None else await self.directory.get_org(event.org_id)
        name = None if org is None else org.name
        body, headers = render(hook, payload(event, name, self.public_url), delivery.message_id, now)
        answer = await self.sender.send(hook.url, body, headers)
        return await self._finish(delivery, self.clock.now(), answer)

    async def _finish(
        self, delivery: Delivery, now: datetime, answer: SentAnswer, *, give_up: bool = False
    ) -> DeliveryState:
        tried = replace(delivery, attempts=delivery.attempts + 1, last_status=answer.status, last_error=answer.error)
        if answer.status is not None and 200 <= answer.status < 300:
            done = replace(tried, state=DeliveryState.DELIVERED, done_at=now)
        else:
            later = None if give_up else self.retry.next_try(tried, now)
            if later is None:
                done = replace(tried, state=DeliveryState.FAILED, done_at=now)
                log.warning("webhook %s gave up on event %d: %s", delivery.webhook_id, delivery.seq, answer)
            else:
                done = replace(tried, next_try_at=later)
        await self.store.record(done)
        self.counted({DeliveryState.DELIVERED: "delivered", DeliveryState.FAILED: "failed"}.get(done.state, "retried"))
        return done.state
