"""The WebhookStore port on SQLAlchemy: webhooks, their deliveries and the log readers' cursors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sql import events
from adapters.sql._session import engine_of, session_factory
from adapters.sql.engine import guarded
from adapters.sql.models import CursorRow, DeliveryRow, WebhookRow, utc
from domain.events import EventType, NewEvent
from domain.webhooks import Delivery, DeliveryState, Format, Webhook

HOOKS = cast(Table, WebhookRow.__table__)
DELIVERIES = cast(Table, DeliveryRow.__table__)
CURSORS = cast(Table, CursorRow.__table__)


class SqlWebhookStore:
    def __init__(self, source: AsyncEngine | async_sessionmaker[AsyncSession]) -> None:
        self._engine = engine_of(session_factory(source))

    async def add(self, hook: Webhook, event: NewEvent) -> None:
        values = {
            "id": hook.id,
            "url": hook.url,
            "org_id": hook.org_id,
            "events": ",".join(hook.events),
            "format": hook.format.value,
            "secret": hook.secret,
            "created_at": hook.created_at,
        }
        async with guarded(), self._engine.begin() as connection:
            await connection.execute(insert(HOOKS).values(**values))
            await events.append(connection, [event])

    async def remove(self, webhook_id: str, event: NewEvent) -> bool:
        async with guarded(), self._engine.begin() as connection:
            gone = await connection.execute(delete(HOOKS).where(HOOKS.c.id == webhook_id))
            if gone.rowcount == 0:
                return False
            await connection.execute(delete(DELIVERIES).where(DELIVERIES.c.webhook_id == webhook_id))
            await events.append(connection, [event])
            return True

    async def get(self, webhook_id: str) -> Webhook | None:
        async with guarded(), self._engine.connect() as connection:
            row = (await connection.execute(select(HOOKS).where(HOOKS.c.id == webhook_id))).first()
        return None if row is None else _hook(row)

    async def all(self) -> list[Webhook]:
        async with guarded(), self._engine.connect() as connection:
            rows = (await connection.execute(select(HOOKS).order_by(HOOKS.c.id))).all()
        return [_hook(row) for row in rows]

    async def deliveries(self, webhook_id: str, limit: int) -> list[Delivery]:
        query = select(DELIVERIES).where(DELIVERIES.c.webhook_id == webhook_id).order_by(DELIVERIES.c.seq.desc())
        async with guarded(), self._engine.connect() as connection:
            rows = (await connection.execute(query.limit(limit))).all()
        return [_delivery(row) for row in rows]

    async def test(self, webhook_id: str, event: NewEvent) -> bool:
        async with guarded(), self._engine.begin() as connection:
            found = (await connection.execute(select(HOOKS.c.id).where(HOOKS.c.id == webhook_id))).first()
            if found is None:
                return False
            await events.append(connection, [event])
            return True

    async def cursor(self, name: str) -> int:
        async with guarded(), self._engine.connect() as connection:
            seq = (await connection.execute(select(CURSORS.c.seq).where(CURSORS.c.name == name))).scalar()
        return -1 if seq is None else int(seq)

    async def enqueue(self, name: str, after: int, upto: int, deliveries: Sequence[Delivery]) -> None:
        async with guarded(), self._engine.begin() as connection:
            if not await _move(connection, name, after, upto):
                return
            if deliveries:
                await connection.execute(insert(DELIVERIES), [_values(d) for d in deliveries])

    async def due(self, now: datetime, limit: int) -> list[Delivery]:
        query = (
            select(DELIVERIES)
            .where(DELIVERIES.c.state == DeliveryState.PENDING.value, DELIVERIES.c.next_try_at <= now)
            .order_by(DELIVERIES.c.seq, DELIVERIES.c.webhook_id)
            .limit(limit)
        )
        async with guarded(), self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_delivery(row) for row in rows]

    async def record(self, delivery: Delivery) -> None:
        values = _values(delivery)
        del values["webhook_id"], values["seq"]
        async with guarded(), self._engine.begin() as connection:
            await connection.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.webhook_id == delivery.webhook_id, DELIVERIES.c.seq == delivery.seq)
                .values(**values)
            )


async def _move(connection: AsyncConnection, name: str, after: int, upto: int) -> bool:
    """Compare-and-set the cursor: False when another replica moved it first (or created it)."""
    if after < 0:
        existing = (await connection.execute(select(CURSORS.c.seq).where(CURSORS.c.name == name))).first()
        if existing is None:
            await connection.execute(insert(CURSORS).values(name=name, seq=upto))
            return True
    moved = await connection.execute(
        update(CURSORS).where(CURSORS.c.name == name, CURSORS.c.seq == after).values(seq=upto)
    )
    return bool(moved.rowcount)


def _values(delivery: Delivery) -> dict[str, Any]:
    return {
        "webhook_id": delivery.webhook_id,
        "seq": delivery.seq,
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "next_try_at": delivery.next_try_at,
        "created_at": delivery.created_at,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "done_at": delivery.done_at,
    }


def _hook(row: Any) -> Webhook:
    return Webhook(
        id=row.id,
        url=row.url,
        org_id=row.org_id,
        events=tuple(EventType(e) for e in row.events.split(",") if e),
        format=Format(row.format),
        secret=row.secret,
        created_at=row.created_at,
    )


def _delivery(row: Any) -> Delivery:
    next_try_at, created_at = utc(row.next_try_at), utc(row.created_at)
    assert next_try_at is not None  # noqa: S101 - NOT NULL columns
    assert created_at is not None  # noqa: S101
    return Delivery(
        webhook_id=row.webhook_id,
        seq=row.seq,
        state=DeliveryState(row.state),
        attempts=row.attempts,
        next_try_at=next_try_at,
        created_at=created_at,
        last_status=row.last_status,
        last_error=row.last_error,
        done_at=utc(row.done_at),
    )
