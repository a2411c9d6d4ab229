"""The event log through the admin API, in process: what an upload, a delete and the operator's actions
write, read back page by page and filtered; bad filters are 400."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pytest

from adapters.memory.clock import FrozenClock
from tests.unit.fakes import pgp
from tests.unit.test_console_http import START, TOKEN, Client, csrf_of, make_client, sign_in

BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def http() -> Iterator[Client]:
    with make_client(FrozenClock(START), BACKUP_ADMIN_TOKEN=TOKEN) as client:
        yield client


def basic(key: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


def fleet(http: Client) -> tuple[str, dict[str, str], str]:
    """An org, system `fw` and one stored backup: (org id, the system's Basic header, the backup's id)."""
    org = http.post("/api/admin/orgs", json={"name": "acme"}, headers=BEARER).json()["data"]
    system = http.post(f"/api/admin/orgs/{org['id']}/systems", json={"system_key": "fw"}, headers=BEARER).json()
    auth = basic("fw", system["data"]["system_secret"])
    stored = http.post("/api/systems/backups", content=pgp(500), headers={**auth, "X-Filename": "a.tar.gz.gpg"})
    assert stored.status_code == 201
    return org["id"], auth, stored.json()["data"]["id"]


def test_the_log_shows_each_change_once_in_seq_order_with_its_actor(http: Client) -> None:
    org_id, _, backup_id = fleet(http)
    http.delete(f"/api/admin/systems/fw/backups/{backup_id}", headers=BEARER)
    events = http.get("/api/admin/log", headers=BEARER).json()["data"]["events"]
    assert [(e["seq"], e["type"]) for e in events] == [
        (0, "org.created"),
        (1, "system.created"),
        (2, "backup.stored"),
        (3, "backup.deleted"),
    ]
    stored, deleted = events[2], events[3]
    assert (stored["org_id"], stored["system_key"], stored["backup_id"], stored["actor"]) == (
        org_id,
        "fw",
        backup_id,
        "appliance",
    )
    assert stored["detail"]["size"] == 500
    assert (deleted["actor"], deleted["detail"]) == ("operator", {"via": "admin"})
    assert stored["at"].endswith("Z")


def test_a_secret_never_reaches_the_log(http: Client) -> None:
    fleet(http)
    rotated = http.post("/api/admin/systems/fw/rotate-secret", headers=BEARER).json()["data"]["system_secret"]
    text = http.get("/api/admin/log", headers=BEARER).text
    assert "system.secret_rotated" in text
    assert rotated not in text


def test_the_log_pages_forward_and_filters_by_system_type_and_time(http: Client) -> None:
    _, auth, _ = fleet(http)
    http.post("/api/systems/backups", content=pgp(600), headers={**auth, "X-Filename": "b.tar.gz.gpg"})
    first = http.get("/api/admin/log?limit=2", headers=BEARER).json()["data"]
    assert [e["seq"] for e in first["events"]] == [0, 1]
    rest = http.get(f"/api/admin/log?after={first['next_after']}", headers=BEARER).json()["data"]
    assert [e["seq"] for e in rest["events"]] == [2, 3]
    assert rest["next_after"] is None
    stored = http.get("/api/admin/log?type=backup.stored&system=fw", headers=BEARER).json()["data"]["events"]
    assert [e["seq"] for e in stored] == [2, 3]
    assert http.get("/api/admin/log?system=other", headers=BEARER).json()["data"]["events"] == []
    assert len(http.get("/api/admin/log?since=1h", headers=BEARER).json()["data"]["events"]) == 4
    assert http.get("/api/admin/log?since=2999-01-01", headers=BEARER).json()["data"]["events"] == []


@pytest.mark.parametrize(
    ("query", "key"),
    [("type=backup.eaten", "type"), ("since=yesterday", "since"), ("limit=0", "limit"), ("after=-5", "after")],
)
def test_a_bad_filter_is_400_naming_it(http: Client, query: str, key: str) -> None:
    answer = http.get(f"/api/admin/log?{query}", headers=BEARER)
    assert answer.status_code == 400
    assert answer.json()["data"]["errors"][0]["key"] == key


def test_the_log_needs_the_admin_token(http: Client) -> None:
    assert http.get("/api/admin/log").status_code == 401


def test_the_consoles_system_page_shows_its_history_newest_first(http: Client) -> None:
    _, _, backup_id = fleet(http)
    sign_in(http)
    token = csrf_of(http.get("/console/systems/fw"))
    deleted = http.post(f"/console/systems/fw/backups/{backup_id}/delete", data={"csrf": token})
    assert deleted.status_code == 200
    page = http.get("/console/systems/fw").text
    rows = re.findall(
        r'<tr data-seq="(\d+)">\s*<td class="num">\d+</td>\s*<td>.*?</td>\s*<td>([a-z._]+)</td>', page, re.S
    )
    assert rows == [("3", "backup.deleted"), ("2", "backup.stored"), ("1", "system.created")]
    assert "via=console" in page
