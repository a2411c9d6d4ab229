"""The alerts' wiring, beside the composition root: webhooks (CLI, admin API), the schedule evaluator and
the notifier (two workers), on the same database as the catalog or on its in-memory tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.settings import Settings
from domain.notify import Notifier
from domain.ports import (
    Clock,
    EventLog,
    IdFactory,
    SentAnswer,
    SystemDirectory,
    SystemHealth,
    WebhookSender,
    WebhookStore,
)
from domain.watch import ScheduleEvaluator
from domain.webhook_admin import WebhookAdmin
from domain.webhooks import RetryPolicy

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from adapters.runtime.webhook_sender import HttpxWebhookSender


@dataclass(frozen=True, slots=True, kw_only=True)
class Alerting:
    webhooks: WebhookAdmin
    evaluator: ScheduleEvaluator
    notifier: Notifier
    sender: WebhookSender


def alerting(
    settings: Settings,
    engine: AsyncEngine | None,
    directory: SystemDirectory,
    health: SystemHealth,
    events: EventLog,
    clock: Clock,
    ids: IdFactory,
    counted: Callable[[str], None],
    *,
    retry: RetryPolicy | None = None,
    sender: WebhookSender | None = None,
) -> Alerting:
    store = _store(engine, directory)
    sender = sender or _FirstUse()
    return Alerting(
        webhooks=WebhookAdmin(store=store, directory=directory, ids=ids, clock=clock),
        evaluator=ScheduleEvaluator(health=health, clock=clock, schedule=settings.schedule),
        notifier=Notifier(
            log=events,
            store=store,
            sender=sender,
            directory=directory,
            clock=clock,
            retry=retry or RetryPolicy(),
            public_url=settings.public_url,
            counted=counted,
        ),
        sender=sender,
    )


def _store(engine: AsyncEngine | None, directory: SystemDirectory) -> WebhookStore:
    from adapters.memory.directory import InMemorySystemDirectory

    if isinstance(directory, InMemorySystemDirectory):
        from adapters.memory.webhooks import InMemoryWebhookStore

        return InMemoryWebhookStore(directory.tables)
    if engine is None:
        raise ValueError("an overridden directory needs its engine for the webhooks")
    from adapters.sql.webhooks import SqlWebhookStore

    return SqlWebhookStore(engine)


class _FirstUse:
    """The HTTP sender, built at its first delivery: a CLI command never pays for importing the client."""

    def __init__(self) -> None:
        self._sender: HttpxWebhookSender | None = None

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SentAnswer:
        if self._sender is None:
            from adapters.runtime.webhook_sender import HttpxWebhookSender

            self._sender = HttpxWebhookSender()
        return await self._sender.send(url, body, headers)

    async def aclose(self) -> None:
        if self._sender is not None:
            await self._sender.aclose()
