"""A small fleet for the console's browser tests and screenshots: three organizations, fresh, stale,
never-uploaded and suspended systems, a week of backups, on a server whose clock the caller sets."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from app.composition import Overrides
from app.settings import Settings
from tests.integration.live import live_server, settings_for

TOKEN = "demo-admin-token-0123456789abcdef0123"
NOW = datetime(2026, 4, 12, 9, 0, tzinfo=UTC)
ADMIN = "/api/admin"
UPLOAD = "/api/systems/backups"


class DemoClock:
    """The server's clock: it reads what the test or the demo last set."""

    def __init__(self, now: datetime) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = moment

    def advance(self, span: timedelta) -> None:
        self.moment += span


@dataclass
class Fleet:
    url: str
    clock: DemoClock
    orgs: dict[str, str] = field(default_factory=dict)
    """Organization name → id."""
    secrets: dict[str, str] = field(default_factory=dict)
    """System key → secret."""
    bodies: dict[str, bytes] = field(default_factory=dict)
    """sha256 → the bytes uploaded, to compare downloads with."""

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.url + ADMIN, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)


def demo_settings(data_dir: Path) -> Settings:
    return settings_for(
        data_dir,
        admin_token=TOKEN,
        rate_limit_per_minute="0",
        rate_limit_per_hour="0",
        max_size_per_system="4MiB",
        max_size_per_org="12MiB",
        max_per_system="8",
    )


# (org, quota or None for the default, system, days ago of each backup or None: never, suspended)
_SYSTEMS: list[tuple[str, int | None, str, list[int], bool]] = [
    ("Acme Networks", 6 << 20, "fw-hq", [7, 6, 5, 4, 3, 2, 1, 0], False),
    ("Acme Networks", 6 << 20, "fw-branch-12", [9, 8, 7, 6, 5, 3], False),
    ("Acme Networks", 6 << 20, "nas-archive", [], False),
    ("Acme Networks", 6 << 20, "fw-lab", [2, 1, 0], True),
    ("Globex", None, "gx-edge-1", [4, 3, 2, 1, 0], False),
    ("Globex", None, "gx-edge-2", [1, 0], False),
    ("Initech", 0, "it-core", [6, 4, 2, 0], False),
]


def _body(rng: random.Random, size: int) -> bytes:
    """Sniffs as OpenPGP (an old-format PKESK packet); the rest is noise."""
    return b"\x85" + rng.randbytes(size - 1)


def seed(fleet: Fleet) -> None:
    """Create the fleet through the admin API and upload each backup at its moment, oldest first."""
    rng = random.Random(20260412)
    uploads: list[tuple[datetime, str, int]] = []
    # The systems exist from a month back: one that never uploaded since then is `down`.
    fleet.clock.set(NOW - timedelta(days=30))
    with fleet.admin() as admin:
        for org, quota, key, days, _suspended in _SYSTEMS:
            if org not in fleet.orgs:
                fields = {"name": org} if quota is None else {"name": org, "quota_bytes": quota}
                fleet.orgs[org] = admin.post("/orgs", json=fields).raise_for_status().json()["data"]["id"]
            created = admin.post(f"/orgs/{fleet.orgs[org]}/systems", json={"system_key": key}).raise_for_status()
            fleet.secrets[key] = created.json()["data"]["system_secret"]
            base = rng.randint(120, 600) << 10
            for n, ago in enumerate(sorted(days, reverse=True)):
                moment = NOW - timedelta(days=ago, hours=rng.randint(1, 5), minutes=rng.randint(0, 59))
                uploads.append((moment, key, base + n * rng.randint(5, 40) * 1024))
        for moment, key, size in sorted(uploads):
            fleet.clock.set(moment)
            body = _body(rng, size)
            fleet.bodies[hashlib.sha256(body).hexdigest()] = body
            name = f"{key}-{moment:%Y-%m-%d}.tar.gz.gpg"
            answer = httpx.post(
                fleet.url + UPLOAD, content=body, auth=(key, fleet.secrets[key]), headers={"X-Filename": name}
            )
            answer.raise_for_status()
        for _org, _quota, key, _days, suspended in _SYSTEMS:
            if suspended:
                admin.post(f"/systems/{key}/suspend").raise_for_status()
    fleet.clock.set(NOW)


@contextmanager
def demo_server(data_dir: Path) -> Iterator[Fleet]:
    """A live server on demo data; its clock reads NOW once seeded."""
    clock = DemoClock(NOW)
    with live_server(demo_settings(data_dir), Overrides(clock=clock)) as url:
        fleet = Fleet(url=url, clock=clock)
        seed(fleet)
        yield fleet
