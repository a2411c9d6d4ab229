"""Settings from the environment, exactly as SPEC's table. A bad value is a SettingsError naming it."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from app.env_reader import EnvReader, SettingsError
from domain.errors import InvalidInput
from domain.health import Schedule
from domain.model import Limits, RetentionPolicy
from domain.retention import check_policy
from domain.sizes import parse_size

__all__ = ["Settings", "SettingsError", "parse_size"]

DATABASE_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
STORAGE_SCHEMES = ("file://", "memory://", "s3://")
RATE_LIMIT_SCHEMES = ("memory://", "redis://", "rediss://")
LOG_FORMATS = ("text", "json")


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    data_dir: Path
    database_url: str
    storage_url: str
    rate_limit_storage_url: str
    max_upload_size: int
    max_per_system: int
    max_size_per_system: int
    max_size_per_org: int
    rate_limit_per_minute: int
    rate_limit_per_hour: int
    require_openpgp: bool
    append_only: bool
    admin_token: str | None
    metrics_token: str | None = None
    """Bearer token of `/metrics`; None leaves it open."""
    expect_every: timedelta = timedelta(hours=24)
    """How often a system must store a backup (BACKUP_EXPECT_EVERY, or the deprecated BACKUP_STALE_AFTER)."""
    grace: timedelta = timedelta(hours=12)
    """The slack past `expect_every` before a system is `down` (0 under BACKUP_STALE_AFTER)."""
    check_every: timedelta = timedelta(minutes=1)
    """How often schedules are evaluated (a system going `down` is noticed within this)."""
    size_anomaly_ratio: float = 2.0
    """BACKUP_SIZE_ANOMALY_RATIO: the size change that raises `backup.size_anomaly`; 0 turns it off."""
    public_url: str | None = None
    """The console's public address (BACKUP_PUBLIC_URL), for links in alerts."""
    deprecated: tuple[str, ...] = ()
    """One line per deprecated variable in use, for the server to print once at start."""
    log_format: str = "text"
    """`text` or `json` (one JSON object per line on stderr)."""
    trusted_proxies: tuple[str, ...] = ()
    """Networks (`10.0.0.5/32`, `10.0.0.0/24`, `::1/128`) whose `X-Forwarded-For` is believed; empty: none."""
    body_idle_timeout: timedelta = timedelta(seconds=60)
    """An upload body that sends nothing for this long is aborted."""
    max_connections: int = 1000
    """Open connections per process; past it, new ones get 503 (except /api/health)."""
    max_uploads_per_system: int = 2
    """Uploads of one system in flight at once, per process; the next gets 429."""
    retention: RetentionPolicy | None = None
    """The default policy (BACKUP_KEEP_*); None keeps the newest `max_per_system`."""
    max_protected_per_system: int = 3
    log_key_file: Path | None = None
    """BACKUP_LOG_KEY_FILE: the event log's Ed25519 signer key; None: `log.key` in the data dir, made at
    first start."""
    verify_every: timedelta = timedelta(days=30)
    """BACKUP_VERIFY_EVERY: how often each stored object is re-read (0: scrubbing is off)."""
    verify_rate: int = 20 * 1024 * 1024
    """BACKUP_VERIFY_RATE: bytes a second the scrubber reads at most."""
    log_origin: str = "backup-collect/localhost"
    """BACKUP_LOG_ORIGIN: the checkpoints' origin line and the key's name (default backup-collect/<hostname>)."""

    @property
    def limits(self) -> Limits:
        return Limits(
            max_upload_size=self.max_upload_size,
            max_per_system=self.max_per_system,
            max_size_per_system=self.max_size_per_system,
            max_size_per_org=self.max_size_per_org,
            require_openpgp=self.require_openpgp,
            retention=self.retention,
            max_protected_per_system=self.max_protected_per_system,
            size_anomaly_ratio=self.size_anomaly_ratio,
        )

    @property
    def schedule(self) -> Schedule:
        return Schedule(every=self.expect_every, grace=self.grace)

    @property
    def is_embedded(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def uses_data_dir(self) -> bool:
        """The embedded default keeps its database or its objects under `data_dir` (and creates it)."""
        return self.database_url == _embedded_database(self.data_dir) or self.storage_url == _embedded_storage(
            self.data_dir
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        read = EnvReader(env)
        data_dir = Path(read.text("BACKUP_DATA_DIR", "./var"))
        max_per_system = read.integer("BACKUP_MAX_PER_SYSTEM", "10", minimum=1)
        return cls(
            data_dir=data_dir,
            database_url=read.url("BACKUP_DATABASE_URL", _embedded_database(data_dir), DATABASE_SCHEMES),
            storage_url=read.url("BACKUP_STORAGE_URL", _embedded_storage(data_dir), STORAGE_SCHEMES),
            rate_limit_storage_url=read.url("BACKUP_RATE_LIMIT_STORAGE_URL", "memory://", RATE_LIMIT_SCHEMES),
            max_upload_size=read.size("BACKUP_MAX_UPLOAD_SIZE", "2GiB", minimum=1),
            max_per_system=max_per_system,
            max_size_per_system=read.size("BACKUP_MAX_SIZE_PER_SYSTEM", "500MiB", minimum=1),
            max_size_per_org=read.size("BACKUP_MAX_SIZE_PER_ORG", "100GiB", minimum=0),
            rate_limit_per_minute=read.integer("BACKUP_RATE_LIMIT_PER_MINUTE", "6", minimum=0),
            rate_limit_per_hour=read.integer("BACKUP_RATE_LIMIT_PER_HOUR", "60", minimum=0),
            require_openpgp=read.boolean("BACKUP_REQUIRE_OPENPGP", "true"),
            append_only=read.boolean("BACKUP_APPEND_ONLY", "false"),
            admin_token=read.token("BACKUP_ADMIN_TOKEN"),
            metrics_token=read.token("BACKUP_METRICS_TOKEN"),
            **_schedule(read),
            public_url=_public_url(read),
            size_anomaly_ratio=_ratio(read),
            log_format=read.choice("BACKUP_LOG_FORMAT", "text", LOG_FORMATS),
            trusted_proxies=read.networks("BACKUP_TRUSTED_PROXIES"),
            body_idle_timeout=read.duration("BACKUP_BODY_IDLE_TIMEOUT", "60s"),
            max_connections=read.integer("BACKUP_MAX_CONNECTIONS", "1000", minimum=1),
            max_uploads_per_system=read.integer("BACKUP_MAX_UPLOADS_PER_SYSTEM", "2", minimum=1),
            retention=_retention(read, max_per_system),
            max_protected_per_system=read.integer("BACKUP_MAX_PROTECTED_PER_SYSTEM", "3", minimum=0),
            verify_every=_verify_every(read),
            verify_rate=read.size("BACKUP_VERIFY_RATE", "20MiB", minimum=1),
            log_key_file=Path(key_file) if (key_file := read.text("BACKUP_LOG_KEY_FILE", "")) else None,
            log_origin=_origin(read.text("BACKUP_LOG_ORIGIN", f"backup-collect/{socket.gethostname()}")),
        )

    @property
    def log_key_path(self) -> Path:
        """Where the event log's signer key is read (and, by default, made at first start)."""
        return self.log_key_file or self.data_dir / "log.key"


def _verify_every(read: EnvReader) -> timedelta:
    if read.text("BACKUP_VERIFY_EVERY", "30d").strip() == "0":
        return timedelta(0)
    return read.duration("BACKUP_VERIFY_EVERY", "30d", allow_zero=True)


def _origin(origin: str) -> str:
    """A checkpoint's origin doubles as its key's name: non-empty, no space and no `+` (C2SP signed-note)."""
    if not origin or any(c.isspace() or c == "+" for c in origin) or not origin.isprintable():
        raise SettingsError("BACKUP_LOG_ORIGIN: must be non-empty, printable, with no space and no '+'")
    return origin


def _retention(read: EnvReader, max_per_system: int) -> RetentionPolicy | None:
    """The default policy from BACKUP_KEEP_*, None when none is set (the seed's rule: the newest
    BACKUP_MAX_PER_SYSTEM). A policy past BACKUP_MAX_PER_SYSTEM stops the process."""
    names = ("BACKUP_KEEP_LAST", "BACKUP_KEEP_DAILY", "BACKUP_KEEP_WEEKLY", "BACKUP_KEEP_MONTHLY")
    if not any(read.text(name, "") for name in names):
        return None
    policy = RetentionPolicy(
        keep_last=read.integer("BACKUP_KEEP_LAST", str(max_per_system), minimum=1),
        keep_daily=read.integer("BACKUP_KEEP_DAILY", "0", minimum=0),
        keep_weekly=read.integer("BACKUP_KEEP_WEEKLY", "0", minimum=0),
        keep_monthly=read.integer("BACKUP_KEEP_MONTHLY", "0", minimum=0),
    )
    try:
        return check_policy(policy, max_per_system)
    except InvalidInput as error:
        raise SettingsError(f"BACKUP_KEEP_*: {error.message}") from None


def _ratio(read: EnvReader) -> float:
    value = read.text("BACKUP_SIZE_ANOMALY_RATIO", "2")
    try:
        ratio = float(value)
    except ValueError:
        ratio = -1.0
    if not (ratio == 0 or 1 < ratio < 1e9):
        raise SettingsError(f"BACKUP_SIZE_ANOMALY_RATIO: {value!r} must be 0 (off) or a number above 1")
    return ratio


def _public_url(read: EnvReader) -> str | None:
    value = read.text("BACKUP_PUBLIC_URL", "")
    if value and not value.startswith(("http://", "https://")):
        raise SettingsError(f"BACKUP_PUBLIC_URL: {value!r} must start with http:// or https://")
    return value.rstrip("/") or None


def _schedule(read: EnvReader) -> dict[str, Any]:
    """BACKUP_EXPECT_EVERY / BACKUP_GRACE; the deprecated BACKUP_STALE_AFTER = every with grace 0 unless
    those are set themselves."""
    fields: dict[str, Any] = {"check_every": read.duration("BACKUP_CHECK_EVERY", "1m")}
    stale = read.text("BACKUP_STALE_AFTER", "")
    every, grace = read.text("BACKUP_EXPECT_EVERY", ""), read.text("BACKUP_GRACE", "")
    if stale and not every:
        fields["expect_every"] = read.duration("BACKUP_STALE_AFTER", stale)
        fields["grace"] = read.duration("BACKUP_GRACE", "0s", allow_zero=True)
    else:
        fields["expect_every"] = read.duration("BACKUP_EXPECT_EVERY", "24h")
        fields["grace"] = read.duration("BACKUP_GRACE", "12h", allow_zero=True)
    if stale:
        used = "ignored: BACKUP_EXPECT_EVERY is set" if every else "used as BACKUP_EXPECT_EVERY"
        fields["deprecated"] = (
            f"BACKUP_STALE_AFTER is deprecated ({used}{'' if every or grace else ' with BACKUP_GRACE 0'}); "
            "set BACKUP_EXPECT_EVERY and BACKUP_GRACE instead",
        )
    return fields


def _embedded_database(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'backups.db'}"


def _embedded_storage(data_dir: Path) -> str:
    return f"file://{data_dir / 'objects'}"
