"""Webhooks: where alerts go, which events they take, in which format; their deliveries' bookkeeping."""

from __future__ import annotations

import base64
import enum
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from domain.errors import InvalidInput
from domain.events import EventType


class Format(enum.StrEnum):
    STANDARD = "standard"
    SLACK = "slack"
    NTFY = "ntfy"


# The events a webhook can take (SPEC "Knowing when something is wrong"); `test` reaches only the webhook
# it was sent to. A webhook added without `--events` takes all of them.
ALERTS = (
    EventType.SYSTEM_DOWN,
    EventType.SYSTEM_FAILING,
    EventType.SYSTEM_RECOVERED,
    EventType.BACKUP_SIZE_ANOMALY,
    EventType.ORG_QUOTA_NEAR,
    EventType.BACKUP_VERIFY_FAILED,
    EventType.TEST,
)
MAX_URL = 2000
_FAILED_CHECKS = {"mismatch", "missing"}


def alert_of(type_: EventType, detail: Mapping[str, object]) -> EventType | None:
    """The alert an event log entry is, if any: an alert type itself, or a `backup.verified` whose result
    is `mismatch` or `missing` (the scrubber's finding), sent as `backup.verify_failed`."""
    if type_ is EventType.BACKUP_VERIFIED:
        return EventType.BACKUP_VERIFY_FAILED if detail.get("result") in _FAILED_CHECKS else None
    return type_ if type_ in ALERTS else None


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    """A receiver. `org_id` None takes every organization's events; `secret` signs `standard` bodies."""

    id: str
    url: str
    org_id: str | None
    events: tuple[EventType, ...]
    format: Format
    secret: str
    created_at: datetime

    def takes(self, type_: EventType, org_id: str | None, detail_webhook: object) -> bool:
        """Whether an event of `type_` (of `org_id`) goes to this webhook."""
        if type_ is EventType.TEST:
            return detail_webhook == self.id
        return type_ in self.events and (self.org_id is None or self.org_id == org_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One event on its way to one webhook: every try carries the same `message_id`."""

    webhook_id: str
    seq: int
    state: DeliveryState
    attempts: int
    next_try_at: datetime
    created_at: datetime
    last_status: int | None = None
    last_error: str | None = None
    done_at: datetime | None = None

    @property
    def message_id(self) -> str:
        """The `webhook-id`: stable across tries and replicas (the event's seq and the webhook's id)."""
        return f"msg_{self.seq}_{self.webhook_id}"


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def check_url(url: str) -> str:
    """An http(s) URL with a host and, if given, a port from 1 to 65535. Raises InvalidInput `url`."""
    url = url.strip()
    if len(url) > MAX_URL or not url.isprintable() or " " in url:
        raise InvalidInput("url", f"at most {MAX_URL} printable characters without spaces", url[:100])
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidInput("url", f"not a URL: {error}", url[:100]) from None
    if parts.scheme not in {"http", "https"}:
        raise InvalidInput("url", "must start with http:// or https://", url[:100])
    if not parts.hostname:
        raise InvalidInput("url", "has no host", url[:100])
    if port is not None and not 1 <= port <= 65535:
        raise InvalidInput("url", "port must be 1-65535", url[:100])
    if parts.username or parts.password:
        raise InvalidInput("url", "must not carry credentials (they would be shown and logged)", parts.hostname)
    return url


def check_events(names: list[str] | None) -> tuple[EventType, ...]:
    """Event names from SPEC's alert list (all of them when None or empty). Raises InvalidInput `events`."""
    if not names:
        return tuple(e for e in ALERTS if e is not EventType.TEST)
    chosen = []
    for name in names:
        try:
            event = EventType(name.strip())
        except ValueError:
            event = None
        if event is None or event not in ALERTS:
            raise InvalidInput("events", f"unknown event; one of {', '.join(ALERTS)}", name[:100])
        if event not in chosen:
            chosen.append(event)
    return tuple(chosen)


def check_format(name: str) -> Format:
    try:
        return Format(name.strip().lower())
    except ValueError:
        raise InvalidInput("format", f"one of {', '.join(Format)}", name[:100]) from None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a refused delivery is tried again: `delays[i]` after the (i+1)-th failed try (the last one
    repeats), and given up `give_up_after` its event was queued."""

    delays: tuple[timedelta, ...] = (
        timedelta(seconds=10),
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=2),
    )
    give_up_after: timedelta = timedelta(hours=24)

    def next_try(self, delivery: Delivery, now: datetime) -> datetime | None:
        """When to try again after this failed try (attempts already counts it), None to give up."""
        if now - delivery.created_at >= self.give_up_after:
            return None
        delay = self.delays[min(delivery.attempts - 1, len(self.delays) - 1)]
        return min(now + delay, delivery.created_at + self.give_up_after)
