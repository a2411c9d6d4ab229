"""Retention through real HTTP, the clock moved across days and weeks: policies set through the admin API,
previews, protected backups and their 409s, the size cap beside protected bytes, a race of two commits;
on SQLite + files and on PostgreSQL + S3 (SeaweedFS)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.memory.clock import FrozenClock
from adapters.objectstore.obstore_adapter import ObstoreObjectStore
from adapters.objectstore.urls import store_from_url
from app.composition import Overrides
from app.settings import Settings
from domain.model import RetentionPolicy
from tests.integration.live import live_server, settings_for
from tests.integration.services import S3Service
from tests.unit.fakes import pgp
from tests.unit.test_retention_property import reference

TOKEN = "s3cret-admin-token-0123456789abcdef0123"
UPLOAD = "/api/systems/backups"
START = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # a Monday evening: days and ISO weeks turn soon
DAY = 86400.0
TIERED = {"keep_last": 2, "keep_daily": 3, "keep_weekly": 2, "keep_monthly": 0}


@dataclass
class Site:
    server: str
    admin: httpx.Client
    clock: FrozenClock
    org_id: str
    key: str
    secret: str

    def upload(self, size: int = 1000) -> httpx.Response:
        return httpx.post(
            self.server + UPLOAD,
            content=pgp(size),
            auth=(self.key, self.secret),
            headers={"X-Filename": "c.tar.gz.gpg"},
        )

    def backups(self) -> list[dict[str, Any]]:
        return data(self.admin.get(f"/systems/{self.key}/backups"))  # type: ignore[no-any-return]

    def used(self) -> int:
        return data(self.admin.get(f"/orgs/{self.org_id}"))["used_bytes"]  # type: ignore[no-any-return]


def data(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json()["data"]


def refused(answer: httpx.Response, status: int, key: str) -> None:
    assert answer.status_code == status, answer.text
    assert [e["key"] for e in answer.json()["data"]["errors"]] == [key]


@pytest.fixture(params=["sqlite+files", "postgresql+s3"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    env = {"admin_token": TOKEN, "rate_limit_per_minute": "0", "rate_limit_per_hour": "0"}
    env.update(max_size_per_system="20000", max_upload_size="20000")
    clock = FrozenClock(START)
    overrides = Overrides(clock=clock)
    if request.param == "postgresql+s3":
        env["database_url"] = request.getfixturevalue("postgres_url")
        s3: S3Service = request.getfixturevalue("s3")
        store = store_from_url(s3.url(f"r-{secrets.token_hex(6)}"), env=s3.env)
        overrides = Overrides(clock=clock, objects=ObstoreObjectStore(store))
    settings: Settings = settings_for(tmp_path, **env)
    with (
        live_server(settings, overrides) as server,
        httpx.Client(base_url=server + "/api/admin", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as admin,
    ):
        org_id = data(admin.post("/orgs", json={"name": "Acme"}), 201)["id"]
        key = f"fw-{secrets.token_hex(4)}"
        secret = data(admin.post(f"/orgs/{org_id}/systems", json={"system_key": key}), 201)["system_secret"]
        yield Site(server, admin, clock, org_id, key, secret)


def test_a_tiered_policy_keeps_days_and_weeks_as_the_clock_moves(site: Site) -> None:
    shown = data(site.admin.patch(f"/orgs/{site.org_id}", json={"retention": TIERED}))
    assert shown["retention"] == shown["retention_override"] == TIERED
    stamps: list[tuple[str, datetime, bool]] = []
    # Three uploads a day, 8 hours apart, for 17 days: across days, two ISO week boundaries and a month.
    for _ in range(17 * 3):
        backup = data(site.upload(), 201)
        stamps.append((backup["id"], site.clock.now(), False))
        site.clock.advance(8 * 3600)
    expected = reference(stamps, RetentionPolicy(**TIERED))
    listed = site.backups()
    assert [b["id"] for b in listed] == sorted((i for i, by in expected.items() if by), reverse=True)
    assert site.used() == sum(b["size"] for b in listed) == 1000 * len(listed)
    preview = data(site.admin.get(f"/systems/{site.key}/retention"))
    assert preview["policy"] == TIERED
    assert {b["id"]: b["kept_by"] for b in preview["backups"]} == {i: by for i, by in expected.items() if by}
    assert [b["kept_by"].split()[0] for b in preview["backups"]] == ["last"] * 2 + ["daily"] * 3 + ["weekly"] * 2
    # The newest upload is on Thursday 10 December (W50): W50 holds kept backups, so the weeks are W49, W48.
    assert [b["kept_by"] for b in preview["backups"][-2:]] == ["weekly 2026-W49", "weekly 2026-W48"]


def test_a_preview_prunes_nothing_and_apply_prunes_with_the_new_policy(site: Site, tmp_path: Path) -> None:
    for _ in range(6):
        data(site.upload(), 201)
        site.clock.advance(DAY)
    preview = data(site.admin.get(f"/systems/{site.key}/retention", params={"keep_last": "1", "keep_daily": "2"}))
    assert [b["kept_by"] for b in preview["backups"]] == [
        "last",
        "daily 2026-11-27",
        "daily 2026-11-26",
        None,
        None,
        None,
    ]
    assert len(site.backups()) == 6
    data(site.admin.patch(f"/orgs/{site.org_id}", json={"retention": {"keep_last": 1, "keep_daily": 2}}))
    assert len(site.backups()) == 6  # a changed policy applies at the next commit...
    data(site.upload(), 201)
    assert len(site.backups()) == 3  # ...here the next upload's
    assert site.used() == 3000


def test_bad_policies_are_400_key_retention_and_change_nothing(site: Site) -> None:
    data(site.admin.patch(f"/orgs/{site.org_id}", json={"retention": TIERED}))
    for bad in (
        {"keep_last": 0},
        {"keep_last": 2, "keep_daily": -1},
        {"keep_last": 2, "keep_weekly": 1.5},
        {"keep_last": "2"},
        {"keep_last": 5, "keep_monthly": 6},
        {"keep_daily": 3},
        {"keep_last": 1, "keep_yearly": 1},
        "keep_last=2",  # not an object: 400 too, never the 500 a name shared with a service gave
        [2, 0, 0, 0],
        5,
    ):
        refused(site.admin.patch(f"/orgs/{site.org_id}", json={"retention": bad}), 400, "retention")
    refused(site.admin.get(f"/systems/{site.key}/retention", params={"keep_daily": "-1"}), 400, "retention")
    refused(site.admin.get(f"/systems/{site.key}/retention", params={"keep_last": "0"}), 400, "retention")
    assert data(site.admin.get(f"/orgs/{site.org_id}"))["retention_override"] == TIERED
    assert site.admin.patch("/orgs/01900000-0000-7000-8000-000000000000", json={"retention": None}).status_code == 404
    assert site.admin.get("/systems/nope/retention").status_code == 404
    # A NUL in a key was a 500 on PostgreSQL (its text refuses one): 400 on both.
    refused(site.admin.get("/systems/fw%00x/retention"), 400, "request")
    refused(site.admin.get("/log", params={"system": "fw\x00x"}), 400, "request")
    refused(site.admin.post(f"/systems/fw%00x/backups/{'0' * 8}/protect"), 400, "request")
    cleared = data(site.admin.patch(f"/orgs/{site.org_id}", json={"retention": None}))
    assert cleared["retention_override"] is None
    assert cleared["retention"] == {"keep_last": 10, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0}


def test_protected_backups_refuse_every_delete_and_outlive_retention(site: Site) -> None:
    data(site.admin.patch(f"/orgs/{site.org_id}", json={"retention": {"keep_last": 1}}))
    first = data(site.upload(), 201)["id"]
    held = data(site.admin.post(f"/systems/{site.key}/backups/{first}/protect", json={"note": "pre-upgrade"}))
    assert (held["protected"], held["protected_note"]) == (True, "pre-upgrade")
    for _ in range(3):
        site.clock.advance(DAY)
        data(site.upload(), 201)
    listed = site.backups()
    assert [b["id"] for b in listed][-1] == first
    assert len(listed) == 2
    refused(httpx.delete(f"{site.server}{UPLOAD}/{first}", auth=(site.key, site.secret)), 409, "protected")
    refused(site.admin.delete(f"/systems/{site.key}/backups/{first}"), 409, "protected")
    refused(site.admin.delete(f"/systems/{site.key}"), 409, "protected")
    assert len(site.backups()) == 2  # the refused destroy changed nothing, and the system still uploads
    for _ in range(2):  # protected: the first and two more, BACKUP_MAX_PROTECTED_PER_SYSTEM (3) in all
        site.clock.advance(60)
        data(site.admin.post(f"/systems/{site.key}/backups/{data(site.upload(), 201)['id']}/protect"))
    site.clock.advance(60)
    newest = data(site.upload(), 201)["id"]
    refused(site.admin.post(f"/systems/{site.key}/backups/{newest}/protect"), 409, "protected")
    missing = "01900000-0000-7000-8000-000000000000.tar.gz"
    assert site.admin.post(f"/systems/{site.key}/backups/{missing}/protect").status_code == 404
    assert site.admin.post(f"/systems/{site.key}/backups/{missing}/unprotect").status_code == 404
    freed = data(site.admin.post(f"/systems/{site.key}/backups/{first}/unprotect"))
    assert (freed["protected"], freed["protected_note"]) == (False, None)
    assert site.used() == sum(b["size"] for b in site.backups())
    destroyed = data(site.admin.delete(f"/systems/{site.key}", params={"include_protected": "true"}))
    assert destroyed["system_key"] == site.key


def test_a_protection_note_with_a_control_character_or_too_long_is_400_key_note(site: Site) -> None:
    """A NUL in a note was a 500 on PostgreSQL (its text refuses it); every bad note is 400 before any change."""
    backup = data(site.upload(), 201)["id"]
    for note in ("a\x00b", "line\nbreak", "x" * 501):
        answer = site.admin.post(f"/systems/{site.key}/backups/{backup}/protect", json={"note": note})
        refused(answer, 400, "note")
    assert [b["protected"] for b in site.backups()] == [False]
    held = data(site.admin.post(f"/systems/{site.key}/backups/{backup}/protect", json={"note": "é" * 500}))
    assert held["protected_note"] == "é" * 500


def test_an_upload_that_cannot_fit_beside_protected_bytes_is_413_size_cap(site: Site) -> None:
    big = data(site.upload(15000), 201)["id"]
    data(site.admin.post(f"/systems/{site.key}/backups/{big}/protect"))
    refused(site.upload(6000), 413, "size_cap")
    assert [b["id"] for b in site.backups()] == [big]
    assert site.used() == 15000
    data(site.upload(4000), 201)
    site.clock.advance(60)
    data(site.upload(4500), 201)  # the 4000 one goes: the cap holds with the protected bytes inside it
    assert [b["size"] for b in site.backups()] == [4500, 15000]
    assert site.used() == 19500


def test_two_commits_racing_under_a_tiered_policy_keep_what_the_rules_say(site: Site) -> None:
    policy = {"keep_last": 1, "keep_daily": 2, "keep_weekly": 1}
    data(site.admin.patch(f"/orgs/{site.org_id}", json={"retention": policy}))
    stamps: list[tuple[str, datetime, bool]] = []
    for _ in range(4):
        stamps.append((data(site.upload(), 201)["id"], site.clock.now(), False))
        site.clock.advance(DAY)
    answers: list[httpx.Response] = []
    racers = [threading.Thread(target=lambda n=n: answers.append(site.upload(1000 + n))) for n in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    for answer in answers:
        stamps.append((data(answer, 201)["id"], site.clock.now(), False))
    # Whichever commits first, the older of the two is superseded (its day and week hold the newer one),
    # so what remains is what committing one upload at a time in id order keeps.
    kept: list[tuple[str, datetime, bool]] = []
    for stamp in sorted(stamps):
        marks = reference([*kept, stamp], RetentionPolicy(**policy))
        kept = [s for s in [*kept, stamp] if marks[s[0]]]
    listed = site.backups()
    assert [b["id"] for b in listed] == sorted((i for i, _, _ in kept), reverse=True)
    assert site.used() == sum(b["size"] for b in listed)
