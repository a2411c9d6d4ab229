"""The notifier on the in-memory adapters with a recording sender and a frozen clock: which entries become
which alerts for which webhook, the retry schedule, and giving up after the window."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.memory.clock import FrozenClock
from adapters.memory.directory import InMemorySystemDirectory
from adapters.memory.events import InMemoryEventLog
from adapters.memory.webhooks import InMemoryWebhookStore
from domain.events import EventType, NewEvent
from domain.model import Organization
from domain.notify import Notifier
from domain.ports import SentAnswer
from domain.webhook_admin import WebhookAdmin
from domain.webhooks import DeliveryState, RetryPolicy

START = datetime(2026, 4, 12, 9, 0, tzinfo=UTC)


@dataclass
class RecordingSender:
    """Answers each POST with the next status of `statuses` (then 200) and keeps what it was sent."""

    statuses: list[int | None] = field(default_factory=list)
    sent: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SentAnswer:
        self.sent.append((url, body, dict(headers)))
        status = self.statuses.pop(0) if self.statuses else 200
        return SentAnswer(status, None if status == 200 else "refused")


class Ids:
    def __init__(self) -> None:
        self.n = 0

    def new_id(self) -> str:
        self.n += 1
        return f"id-{self.n}"


def world(
    statuses: list[int | None] | None = None,
) -> tuple[Notifier, WebhookAdmin, RecordingSender, FrozenClock, Any]:
    clock = FrozenClock(START)
    directory = InMemorySystemDirectory()
    store = InMemoryWebhookStore(directory.tables)
    sender = RecordingSender(list(statuses or []))
    retry = RetryPolicy(delays=(timedelta(seconds=10), timedelta(minutes=1)), give_up_after=timedelta(minutes=5))
    log = InMemoryEventLog(directory.tables)
    notifier = Notifier(log=log, store=store, sender=sender, directory=directory, clock=clock, retry=retry)
    return notifier, WebhookAdmin(store=store, directory=directory, ids=Ids(), clock=clock), sender, clock, directory


async def test_a_failed_scrub_is_sent_as_verify_failed_and_a_good_one_not_at_all() -> None:
    notifier, admin, sender, clock, directory = world()
    await admin.add("http://127.0.0.1:9/hook", events=["backup.verify_failed"], fmt="slack")
    for result in ("ok", "mismatch", "missing"):
        directory.tables.append_events(
            [NewEvent(at=clock.now(), type=EventType.BACKUP_VERIFIED, org_id="o", detail={"result": result})]
        )
    done = await notifier()
    assert (done.queued, done.delivered) == (2, 2)
    texts = [json.loads(body)["text"] for _, body, _ in sender.sent]
    assert all(t.startswith("[backup-collect] backup.verify_failed") for t in texts)
    assert "result=mismatch" in texts[0]
    assert "result=missing" in texts[1]


async def test_only_the_webhooks_org_and_events_are_queued_and_test_reaches_its_webhook_alone() -> None:
    notifier, admin, sender, clock, directory = world()
    org = Organization("o-1", "acme", None)
    await directory.create_org(org)
    mine = await admin.add("http://127.0.0.1:9/mine", org_id=org.id, events=["system.down"])
    other = await admin.add("http://127.0.0.1:9/all")
    directory.tables.append_events(
        [
            NewEvent(at=clock.now(), type=EventType.SYSTEM_DOWN, org_id="o-1", system_key="fw"),
            NewEvent(at=clock.now(), type=EventType.SYSTEM_DOWN, org_id="o-2", system_key="fw"),
            NewEvent(at=clock.now(), type=EventType.SYSTEM_FAILING, org_id="o-1", system_key="fw"),
            NewEvent(at=clock.now(), type=EventType.BACKUP_STORED, org_id="o-1", system_key="fw"),
        ]
    )
    await admin.test(mine.id)
    await notifier()
    urls = sorted(url for url, _, _ in sender.sent)
    assert urls == ["http://127.0.0.1:9/all"] * 3 + ["http://127.0.0.1:9/mine"] * 2
    assert [d.seq for d in await admin.deliveries(other.id)] == sorted(
        [d.seq for d in await admin.deliveries(other.id)], reverse=True
    )
    assert await notifier() == type(await notifier())()  # nothing new: an empty pass


async def test_retries_follow_the_policy_with_one_webhook_id_then_give_up() -> None:
    notifier, admin, sender, clock, _ = world([500, None, 503, 500, 500, 500, 500, 500])
    hook = await admin.add("http://127.0.0.1:9/down")
    await admin.test(hook.id)
    await notifier()
    (first,) = await admin.deliveries(hook.id)
    assert (first.state, first.attempts, first.next_try_at) == ("pending", 1, START + timedelta(seconds=10))
    clock.advance(5)
    await notifier()
    assert len(sender.sent) == 1  # not due yet
    clock.advance(5)
    await notifier()
    (second,) = await admin.deliveries(hook.id)
    assert (second.attempts, second.last_status, second.last_error) == (2, None, "refused")
    assert second.next_try_at == START + timedelta(seconds=70)
    while (await admin.deliveries(hook.id))[0].state == DeliveryState.PENDING.value:
        clock.advance(60)
        await notifier()
    (last,) = await admin.deliveries(hook.id)
    assert last.state == "failed"
    assert last.done_at is not None
    # The last try falls at the end of the window (5 min); the pass that makes it runs within a minute of it.
    assert last.done_at - START <= timedelta(minutes=6)
    assert last.attempts == 7
    assert len({headers["webhook-id"] for _, _, headers in sender.sent}) == 1


async def test_a_new_webhook_takes_no_alert_from_before_it_was_added() -> None:
    notifier, admin, sender, clock, directory = world()
    directory.tables.append_events([NewEvent(at=clock.now(), type=EventType.SYSTEM_DOWN, org_id="o", system_key="a")])
    clock.advance(1)
    await admin.add("http://127.0.0.1:9/late")
    directory.tables.append_events([NewEvent(at=clock.now(), type=EventType.SYSTEM_DOWN, org_id="o", system_key="b")])
    await notifier()
    assert [json.loads(body)["data"]["system_key"] for _, body, _ in sender.sent] == ["b"]
