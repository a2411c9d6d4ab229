"""Value types of the backup domain: identities, backups, limits and usage."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime


class BackupState(enum.StrEnum):
    """Lifecycle of a backup row: an intent, a stored backup, or one being erased."""

    UPLOADING = "uploading"
    STORED = "stored"
    DELETING = "deleting"


@dataclass(frozen=True, slots=True)
class SystemIdentity:
    """The authenticated appliance; the only source of an object key's prefix."""

    system_id: str
    system_key: str
    org_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionPolicy:
    """How many backups of a system to keep: the `keep_last` newest, then the newest of as many UTC days,
    ISO weeks and calendar months (`domain.retention` selects; `check_policy` validates)."""

    keep_last: int
    keep_daily: int = 0
    keep_weekly: int = 0
    keep_monthly: int = 0

    @property
    def total(self) -> int:
        return self.keep_last + self.keep_daily + self.keep_weekly + self.keep_monthly


@dataclass(frozen=True, slots=True)
class Organization:
    """A tenant. `quota_bytes` None follows the default quota; 0 means no quota. `retention` None follows
    the default policy."""

    id: str
    name: str
    quota_bytes: int | None
    retention: RetentionPolicy | None = None


@dataclass(frozen=True, slots=True)
class SystemRecord:
    """A system as the directory keeps it: its identity and whether it may authenticate."""

    identity: SystemIdentity
    suspended: bool


@dataclass(frozen=True, slots=True)
class NewSystem:
    """A freshly created system with its one-time plaintext secret."""

    system_key: str
    system_secret: str
    org_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Backup:
    """One backup's metadata. `id` is `<uuidv7><ext>`; ids order by upload time."""

    id: str
    system_id: str
    org_id: str
    object_key: str
    filename: str
    envelope: str
    size: int
    sha256: str
    mimetype: str
    uploaded_at: datetime
    state: BackupState = BackupState.STORED
    uploader_ip: str | None = None
    """The address the upload came from (through a trusted proxy: the one it names); audit data for
    operators, None for backups stored before it was kept."""
    idempotency_key: str | None = None
    """The `Idempotency-Key` the upload came with, if any."""
    committed_at: datetime | None = None
    """When the commit stored it (an intent has none): a key counts for 24 h from here."""
    alive_at: datetime | None = None
    """An intent's last sign of life while its body arrives (None: none since `uploaded_at`)."""
    protected: bool = False
    """An operator protected it: never pruned, never deleted until unprotected."""
    protected_note: str | None = None
    verified_at: datetime | None = None
    """When the scrubber last re-read its object (None: never)."""
    verify_state: str | None = None
    """What it found then: `ok`, `mismatch` or `missing` (None: never verified)."""

    @property
    def last_heard(self) -> datetime:
        """What the reaper and fsck measure an intent's age from: an upload still receiving is young."""
        return self.alive_at or self.uploaded_at


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Server-side limits, all in bytes or counts; `max_size_per_org` 0 means no default quota."""

    max_upload_size: int
    max_per_system: int
    max_size_per_system: int
    max_size_per_org: int
    require_openpgp: bool = True
    retention: RetentionPolicy | None = None
    """The default policy (BACKUP_KEEP_*); None: the newest `max_per_system` (the seed's rule)."""
    max_protected_per_system: int = 3
    size_anomaly_ratio: float = 2.0
    """A stored backup smaller than 1/R or larger than R times the median of the system's previous (at
    least 3) ones raises `backup.size_anomaly`; 0 turns it off (BACKUP_SIZE_ANOMALY_RATIO)."""

    def __post_init__(self) -> None:
        if self.max_upload_size < 1:
            raise ValueError("max_upload_size must be at least 1 byte")
        if self.max_per_system < 1:
            raise ValueError("max_per_system must be at least 1")
        if self.max_size_per_system < 1:
            raise ValueError("max_size_per_system must be at least 1 byte")
        if self.max_size_per_org < 0:
            raise ValueError("max_size_per_org must not be negative")

    @property
    def default_retention(self) -> RetentionPolicy:
        return self.retention or RetentionPolicy(keep_last=self.max_per_system)

    def policy_for(self, override: RetentionPolicy | None) -> RetentionPolicy:
        """The policy in force for an organization with this override (None: the default)."""
        return override or self.default_retention

    @property
    def effective_upload_cap(self) -> int:
        """An upload that could never fit its system is refused before a byte is read."""
        return min(self.max_upload_size, self.max_size_per_system)


@dataclass(frozen=True, slots=True)
class ExpectedDigest:
    """A digest the client declared (RFC 9530): the header it came in, the algorithm and the raw value."""

    header: str
    algorithm: str
    value: bytes


@dataclass(frozen=True, slots=True)
class Upload:
    """What the appliance sent: the raw X-Filename, the declared length and the body stream, the address
    it sent them from, an `Idempotency-Key` (already parsed) and the digests to verify the body against."""

    filename_header: str | None
    declared_size: int | None
    body: AsyncIterator[bytes]
    uploader_ip: str | None = None
    idempotency_key: str | None = None
    digests: tuple[ExpectedDigest, ...] = ()


@dataclass(frozen=True, slots=True)
class SystemUsage:
    """A system's stored backups against its caps."""

    count: int
    total_size: int
    max_count: int
    max_total_size: int
