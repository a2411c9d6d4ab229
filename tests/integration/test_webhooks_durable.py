"""Deliveries that lose nothing, with real `serve` processes: a server killed with SIGKILL while deliveries
are pending delivers each of them after a restart; two replicas on one PostgreSQL deliver each event once
(the evaluator's and the notifier's leases), not once per replica."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.integration.live import ServeProcess, provision, start_serve
from tests.integration.receiver import Receiver, receiving

TOKEN = "durable-webhooks-token-0123456789abcdef0123"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKUP_", "AWS_"))}
    return env | {
        "BACKUP_DATA_DIR": str(tmp_path / "data"),
        "BACKUP_ADMIN_TOKEN": TOKEN,
        "BACKUP_RATE_LIMIT_PER_MINUTE": "0",
        "BACKUP_RATE_LIMIT_PER_HOUR": "0",
        **extra,
    }


def admin(server: ServeProcess, method: str, path: str, body: object = None) -> Any:
    answer = httpx.request(
        method, f"{server.url}/api/admin{path}", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert answer.status_code in (200, 201, 202), answer.text
    return answer.json()["data"]


def killed(server: ServeProcess) -> None:
    """SIGKILL to the server's process group: no drain, no shutdown, nothing flushed."""
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)


def test_pending_deliveries_survive_a_kill_9_and_arrive_after_the_restart(tmp_path: Path, receiver: Receiver) -> None:
    env = environment(tmp_path)
    first = start_serve(env, tmp_path / "first.log")
    try:
        first.wait_ready("/api/ready")
        retried = admin(first, "POST", "/webhooks", {"url": receiver.url + "/fail/1"})
        queued = admin(first, "POST", "/webhooks", {"url": receiver.url + "/ok"})
        admin(first, "POST", f"/webhooks/{retried['id']}/test")
        # The first try is refused (500): the delivery is pending, its next try 10 s on.
        receiver.wait_for("/fail/1", 1, timeout=15)
        # Three more events the notifier may or may not have queued before the kill.
        for _ in range(3):
            admin(first, "POST", f"/webhooks/{queued['id']}/test")
    finally:
        killed(first)
    seen_before = len(receiver.at("/ok"))
    second = start_serve(env, tmp_path / "second.log")
    try:
        second.wait_ready("/api/ready")
        tries = receiver.wait_for("/fail/1", 2, timeout=30)
        assert tries[0].headers["webhook-id"] == tries[1].headers["webhook-id"]
        delivered = receiver.wait_for("/ok", 3, timeout=30)
        assert len({r.headers["webhook-id"] for r in delivered}) == 3, seen_before
        deliveries = admin(second, "GET", f"/webhooks/{retried['id']}/deliveries")
        assert [(d["state"], d["attempts"]) for d in deliveries] == [("delivered", 2)]
    finally:
        second.stop()


def test_two_replicas_on_postgresql_deliver_each_event_once(
    tmp_path: Path, receiver: Receiver, postgres_url: str
) -> None:
    env = environment(
        tmp_path,
        BACKUP_DATABASE_URL=postgres_url,
        BACKUP_EXPECT_EVERY="4s",
        BACKUP_GRACE="0s",
        BACKUP_CHECK_EVERY="1s",
    )
    replicas = [start_serve(env, tmp_path / f"replica-{n}.log") for n in range(2)]
    try:
        for replica in replicas:
            replica.wait_ready("/api/ready")
        (tenant,) = provision(Settings.from_env(env))
        hook = admin(replicas[0], "POST", "/webhooks", {"url": receiver.url + "/ok", "org_id": tenant.org_id})
        # The system never stores a backup: both evaluators see it go down; one announces it.
        (down,) = receiver.wait_for("/ok", 1, timeout=20)
        assert json.loads(down.body)["type"] == "system.down"
        assert json.loads(down.body)["data"]["system_key"] == tenant.key
        for n in range(6):
            admin(replicas[n % 2], "POST", f"/webhooks/{hook['id']}/test")
        got = receiver.wait_for("/ok", 7, timeout=30)
        time.sleep(4)  # passes of both replicas go by: nothing arrives twice
        got = receiver.at("/ok")
        assert len(got) == 7
        assert len({r.headers["webhook-id"] for r in got}) == 7
        assert [json.loads(r.body)["type"] for r in got].count("system.down") == 1
    finally:
        for replica in replicas:
            replica.stop()
