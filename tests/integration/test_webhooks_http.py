"""Webhooks through real HTTP: a served app on SQLite with short schedules and retries, a real local
receiver; every state transition and the test event delivered in each format, Standard Webhooks
signatures checked with the spec's algorithm written here, retries with one webhook-id, no redirect
followed, a hanging or resetting receiver blocking nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main
from app.composition import Overrides
from domain.webhooks import RetryPolicy
from tests.integration.live import client, live_server, provision, settings_for, stored, wait_until
from tests.integration.receiver import Received, Receiver, receiving
from tests.unit.fakes import pgp

TOKEN = "webhooks-test-token-0123456789abcdef012345"
FAST = Overrides(
    notify_every=timedelta(seconds=0.2),
    webhook_retry=RetryPolicy(delays=(timedelta(seconds=0.3),), give_up_after=timedelta(seconds=3)),
)
UPLOAD = "/api/systems/backups"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as found:
        yield found


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    settings = settings_for(
        tmp_path,
        admin_token=TOKEN,
        expect_every="3s",
        grace="1s",
        check_every="1s",
        rate_limit_per_minute="0",
        rate_limit_per_hour="0",
        public_url="https://backups.example.org",
    )
    with live_server(settings, FAST) as server:
        yield server, settings


def admin(server: str, method: str, path: str, body: object = None, status: int = 200) -> Any:
    answer = httpx.request(
        method, f"{server}/api/admin{path}", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert answer.status_code == status, answer.text
    return answer.json()


def hook(server: str, url: str, **fields: object) -> dict[str, Any]:
    added: dict[str, Any] = admin(server, "POST", "/webhooks", {"url": url, **fields}, 201)["data"]
    return added


def verify_standard(received: Received, secret: str) -> dict[str, Any]:
    """The Standard Webhooks check, from its spec: HMAC-SHA256 keyed with the base64 bytes after `whsec_`,
    over `{webhook-id}.{webhook-timestamp}.{body}`, base64, sent as `v1,<signature>` (space-separated list)."""
    key = base64.b64decode(secret.split("_", 1)[1])
    message_id, timestamp = received.headers["webhook-id"], received.headers["webhook-timestamp"]
    assert abs(time.time() - int(timestamp)) < 300
    signed = message_id.encode() + b"." + timestamp.encode() + b"." + received.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    sent = [s.split(",", 1)[1] for s in received.headers["webhook-signature"].split(" ") if s.startswith("v1,")]
    assert any(hmac.compare_digest(expected, s) for s in sent), (expected, sent)
    body: dict[str, Any] = json.loads(received.body)
    return body


def test_the_test_event_arrives_signed_and_the_deliveries_say_so(served: tuple[str, Any], receiver: Receiver) -> None:
    server, _ = served
    added = hook(server, receiver.url + "/ok")
    assert set(added) == {"id", "url", "org_id", "events", "format", "secret"}
    assert added["secret"].startswith("whsec_")
    assert added["format"] == "standard"
    assert "system.down" in added["events"]
    listed = admin(server, "GET", "/webhooks")["data"]
    assert listed == [{k: v for k, v in added.items() if k != "secret"}]
    admin(server, "POST", f"/webhooks/{added['id']}/test", status=200)
    (got,) = receiver.wait_for("/ok")
    body = verify_standard(got, added["secret"])
    assert body["type"] == "test"
    assert set(body) == {"type", "timestamp", "data"}
    assert TOKEN not in got.body.decode()
    assert added["secret"] not in got.body.decode()
    wait_until(lambda: admin(server, "GET", f"/webhooks/{added['id']}/deliveries")["data"][0]["state"] == "delivered")
    (delivery,) = admin(server, "GET", f"/webhooks/{added['id']}/deliveries")["data"]
    assert (delivery["attempts"], delivery["last_status"], delivery["next_try_at"]) == (1, 200, None)
    # A forged signature fails the same check.
    forged = Received(
        got.path, {**got.headers, "webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()}, got.body
    )
    with pytest.raises(AssertionError):
        verify_standard(forged, added["secret"])
    admin(server, "DELETE", f"/webhooks/{added['id']}")
    assert admin(server, "GET", "/webhooks")["data"] == []
    admin(server, "POST", f"/webhooks/{added['id']}/test", status=404)


def test_down_failing_and_recovered_reach_every_format(served: tuple[str, Any], receiver: Receiver) -> None:
    server, settings = served
    (tenant,) = provision(settings)
    standard = hook(server, receiver.url + "/standard", org_id=tenant.org_id)
    hook(server, receiver.url + "/slack", format="slack")
    hook(server, receiver.url + "/ntfy", format="ntfy", events=["system.down", "system.recovered"])
    # Never stored a backup: down once every + grace (4 s) has passed since it was created.
    down = verify_standard(receiver.wait_for("/standard", 1, timeout=15)[0], standard["secret"])
    assert down["type"] == "system.down"
    data = down["data"]
    assert (data["org_id"], data["org_name"], data["system_key"], data["state"]) == (
        tenant.org_id,
        "acme",
        tenant.key,
        "down",
    )
    assert data["last_backup_at"] is None
    assert data["console_url"] == f"https://backups.example.org/console/systems/{tenant.key}"
    (slack,) = receiver.wait_for("/slack")
    text = json.loads(slack.body)["text"]
    assert "system.down" in text
    assert tenant.key in text
    (ntfy,) = receiver.wait_for("/ntfy")
    assert ntfy.headers["title"] == "backup-collect: system.down"
    assert ntfy.headers["priority"] == "high"
    assert "tags" in ntfy.headers
    assert tenant.key in ntfy.body.decode()
    with client(server, tenant) as http:
        refused = http.post(UPLOAD, content=b"not encrypted at all" * 20, headers={"X-Filename": "a.tar.gz"})
        assert refused.status_code == 400
        failing = verify_standard(receiver.wait_for("/standard", 2, timeout=10)[1], standard["secret"])
        assert failing["type"] == "system.failing"
        assert failing["data"]["status"] == 400
        assert http.post(UPLOAD, content=pgp(1000), headers={"X-Filename": "a.tar.gz.gpg"}).status_code == 201
    recovered = verify_standard(receiver.wait_for("/standard", 3, timeout=10)[2], standard["secret"])
    assert recovered["type"] == "system.recovered"
    assert recovered["data"]["state"] == "up"
    # ntfy took only the two types it asked for; slack all three.
    assert [json.loads(r.body)["text"].split(": ")[0] for r in receiver.wait_for("/slack", 3)] == [
        "[backup-collect] system.down",
        "[backup-collect] system.failing",
        "[backup-collect] system.recovered",
    ]
    assert len(receiver.wait_for("/ntfy", 2)) == 2
    time.sleep(1.5)  # further evaluator passes announce nothing new
    assert len(receiver.at("/standard")) == 3


def test_a_refused_delivery_is_retried_with_one_webhook_id_until_delivered(
    served: tuple[str, Any], receiver: Receiver
) -> None:
    server, _ = served
    added = hook(server, receiver.url + "/fail/2")
    admin(server, "POST", f"/webhooks/{added['id']}/test", status=200)
    tries = receiver.wait_for("/fail/2", 3)
    assert len({t.headers["webhook-id"] for t in tries}) == 1
    for one in tries:
        verify_standard(one, added["secret"])
    wait_until(lambda: admin(server, "GET", f"/webhooks/{added['id']}/deliveries")["data"][0]["state"] == "delivered")
    (delivery,) = admin(server, "GET", f"/webhooks/{added['id']}/deliveries")["data"]
    assert (delivery["attempts"], delivery["last_status"]) == (3, 200)
    metrics = httpx.get(server + "/metrics").text
    assert 'backup_collect_webhook_deliveries_total{outcome="retried"} 2.0' in metrics
    assert 'backup_collect_webhook_deliveries_total{outcome="delivered"} 1.0' in metrics


def test_a_redirect_is_not_followed_and_the_delivery_fails_after_the_retry_window(
    served: tuple[str, Any], receiver: Receiver
) -> None:
    server, _ = served
    added = hook(server, receiver.url + "/redirect")
    admin(server, "POST", f"/webhooks/{added['id']}/test", status=200)
    receiver.wait_for("/redirect", 2)
    wait_until(
        lambda: admin(server, "GET", f"/webhooks/{added['id']}/deliveries")["data"][0]["state"] == "failed", timeout=15
    )
    (delivery,) = admin(server, "GET", f"/webhooks/{added['id']}/deliveries")["data"]
    assert delivery["last_status"] == 302
    assert delivery["attempts"] >= 2
    assert receiver.at("/ok") == []  # the Location was never followed
    assert 'backup_collect_webhook_deliveries_total{outcome="failed"} 1.0' in httpx.get(server + "/metrics").text


def test_a_hanging_or_resetting_receiver_blocks_neither_uploads_nor_other_deliveries(
    served: tuple[str, Any], receiver: Receiver
) -> None:
    server, settings = served
    (tenant,) = provision(settings)
    hook(server, receiver.url + "/hang")
    hook(server, receiver.url + "/reset")
    hook(server, receiver.url + "/ok")
    receiver.wait_for("/hang", timeout=15)  # system.down is on its way to all three
    started = time.monotonic()
    (got,) = receiver.wait_for("/ok", timeout=5)
    assert json.loads(got.body)["type"] == "system.down"
    with client(server, tenant) as http:
        answer = http.post(UPLOAD, content=pgp(1000), headers={"X-Filename": "a.tar.gz.gpg"})
    assert answer.status_code == 201
    assert time.monotonic() - started < 5
    receiver.wait_for("/reset")


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"url": "ftp://example.org/hook"}, "url"),
        ({"url": "http://127.0.0.1:70000/hook"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "http://example.org", "events": ["system.down", "system.exploded"]}, "events"),
        ({"url": "http://example.org", "format": "teams"}, "format"),
    ],
)
def test_bad_webhook_input_is_400_naming_the_field(served: tuple[str, Any], body: dict[str, object], key: str) -> None:
    server, _ = served
    answer = admin(server, "POST", "/webhooks", body, 400)
    assert answer["data"]["errors"][0]["key"] == key
    assert admin(server, "GET", "/webhooks")["data"] == []
    admin(server, "POST", "/webhooks", {"url": "http://example.org", "org_id": "nope"}, 404)


def test_a_size_anomaly_and_an_org_near_its_quota_are_sent_once(served: tuple[str, Any], receiver: Receiver) -> None:
    server, settings = served
    (tenant,) = provision(settings, quota=10_000)
    hook(server, receiver.url + "/ok", events=["backup.size_anomaly", "org.quota_near"])
    with client(server, tenant) as http:
        for size in (1000, 1000, 1000, 5000, 1000, 100):
            answer = http.post(UPLOAD, content=pgp(size), headers={"X-Filename": "a.tar.gz.gpg"})
            assert answer.status_code == 201, answer.text
    anomaly, near, small = receiver.wait_for("/ok", 3)
    first = json.loads(anomaly.body)
    assert first["type"] == "backup.size_anomaly"
    assert (first["data"]["size"], first["data"]["median"], first["data"]["ratio"]) == (5000, 1000, "2")
    assert first["data"]["system_key"] == tenant.key
    assert first["data"]["state"] == "up"  # SPEC's body: the system's state and last backup time
    assert first["data"]["last_backup_at"].endswith("Z")
    second = json.loads(near.body)
    assert second["type"] == "org.quota_near"
    assert (second["data"]["used_bytes"], second["data"]["quota_bytes"], second["data"]["percent"]) == (
        9000,
        10_000,
        90,
    )
    # 100 bytes against a median of 1000 at ratio 2 is one too (smaller than 1/R); crossing 90 % again
    # needs the usage to fall below it first.
    assert (json.loads(small.body)["type"], json.loads(small.body)["data"]["size"]) == ("backup.size_anomaly", 100)
    time.sleep(1)
    assert len(receiver.at("/ok")) == 3


def test_a_corrupt_backup_found_by_verify_is_sent_as_verify_failed(
    served: tuple[str, Any], receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, settings = served
    (tenant,) = provision(settings)
    hook(server, receiver.url + "/ok", events=["backup.verify_failed"])
    with client(server, tenant) as http:
        assert http.post(UPLOAD, content=pgp(2000), headers={"X-Filename": "a.tar.gz.gpg"}).status_code == 201
    (backup,) = stored(settings, tenant)
    path = settings.data_dir / "objects" / backup.object_key
    path.write_bytes(b"\x85" + b"\x00" * 1999)  # same size, other bytes
    for name in [n for n in os.environ if n.startswith("BACKUP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("BACKUP_DATA_DIR", str(settings.data_dir))
    assert main(["verify"]) == 1  # the CLI's own scrub pass, on the server's database
    (got,) = receiver.wait_for("/ok", 1, timeout=10)
    body = json.loads(got.body)
    assert body["type"] == "backup.verify_failed"
    assert (body["data"]["result"], body["data"]["backup_id"], body["data"]["system_key"]) == (
        "mismatch",
        backup.id,
        tenant.key,
    )
