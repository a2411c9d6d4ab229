"""Ports: what the domain needs from the outside world. Adapters satisfy them structurally."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.events import Actor, Event, EventQuery, NewEvent, Via
from domain.health import LastError, ScheduleOverride, SystemFacts
from domain.ledger import Committed, Pruned
from domain.model import Backup, Limits, Organization, RetentionPolicy, SystemIdentity, SystemRecord
from domain.webhooks import Delivery, Webhook


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class IdFactory(Protocol):
    def new_id(self) -> str:
        """A new UUIDv7 in canonical lower-case text; ids from one factory increase."""
        ...


@dataclass(frozen=True, slots=True)
class Allowed:
    """The rate limiter spent one slot in every window."""


@dataclass(frozen=True, slots=True)
class Denied:
    """Some window is full; nothing was spent. Retry after `retry_after` whole seconds (≥ 1)."""

    retry_after: int


class RateLimiter(Protocol):
    async def acquire(self, system_key: str) -> Allowed | Denied:
        """Test every window first; spend a slot in each only if all of them have room."""
        ...

    async def check(self, key: str) -> Allowed | Denied:
        """What `acquire` would answer now, spending nothing (a guard asks before it counts a failure)."""
        ...


class SystemDirectory(Protocol):
    """Organizations and systems, with their credentials."""

    async def authenticate(self, system_key: str, secret: str) -> SystemIdentity | None:
        """The identity for a correct key and secret, else None (also for suspended systems).
        Secrets are stored as salted hashes and compared in constant time."""
        ...

    async def authenticate_upload(self, system_key: str, secret: str) -> Standing | None:
        """As `authenticate`, and with the identity what the advisory checks of an upload need, read
        at once: the organization's committed bytes and quota override, and the system's stored
        backups (oldest first). Advisory only: the commit re-reads all of it under the org's lock."""
        ...

    async def create_org(self, org: Organization) -> None: ...

    async def get_org(self, org_id: str) -> Organization | None: ...

    async def create_system(
        self, identity: SystemIdentity, secret_hash: str, created_at: datetime | None = None
    ) -> None:
        """Raises Conflict when the key exists and NotFound when the org does not. `created_at` (the
        moment a never-heard-from system's schedule counts from) defaults to the wall clock's now."""
        ...

    async def set_suspended(self, system_key: str, suspended: bool) -> None:
        """A suspended system fails authentication. Raises NotFound for an unknown key."""
        ...

    async def list_orgs(self) -> list[Organization]:
        """Every organization, ordered by id (creation order: ids are UUIDv7)."""
        ...

    async def set_org_quota(self, org_id: str, quota_bytes: int | None) -> Organization:
        """Set (or, with None, clear) the organization's own quota. Raises NotFound for an unknown id."""
        ...

    async def set_org_retention(self, org_id: str, policy: RetentionPolicy | None) -> Organization:
        """Set (or, with None, clear) the organization's own retention policy, serialised with its
        commits. Raises NotFound for an unknown id."""
        ...

    async def get_system(self, system_key: str) -> SystemRecord | None: ...

    async def list_systems(self, org_id: str | None = None) -> list[SystemRecord]:
        """Every system, or those of one organization, ordered by system key."""
        ...

    async def set_secret(self, system_key: str, secret_hash: str) -> None:
        """Replace the stored hash: the old secret fails from now on. Raises NotFound for an unknown key."""
        ...

    async def delete_system(self, system_key: str) -> None:
        """Remove the system; its backup rows must be gone already. Absent keys are a no-op."""
        ...


@dataclass(frozen=True, slots=True)
class OrgUsage:
    """Committed bytes of an organization and its own quota override (None follows the default)."""

    used_bytes: int
    quota_override: int | None
    retention: RetentionPolicy | None = None
    """The organization's own retention policy (None: the default)."""


@dataclass(frozen=True, slots=True)
class Standing:
    """An authenticated system with its organization's usage and its stored backups, oldest first."""

    identity: SystemIdentity
    usage: OrgUsage
    stored: tuple[Backup, ...]


class BackupCatalog(Protocol):
    """The metadata and usage ledger. Raises CatalogUnavailable when the database fails."""

    async def org_usage(self, org_id: str) -> OrgUsage:
        """Raises NotFound for an unknown organization."""
        ...

    async def stored_backups(self, system_id: str) -> list[Backup]:
        """The system's stored backups, oldest first."""
        ...

    async def begin_upload(self, intent: Backup) -> None:
        """Record an *uploading* intent row, so a crash never orphans an object silently. Raises
        KeyInFlight when another intent of the system carries the same idempotency key, Conflict when
        the id or object key is taken."""
        ...

    async def commit_upload(self, backup: Backup, limits: Limits, now: datetime) -> Committed:
        """In one transaction serialised per organization, as `domain.ledger` describes: answer with an
        equal stored backup (duplicate body, replayed key) and drop the intent, or raise KeyReused; else
        mark the intent stored with its size, sha256 and `committed_at` = `now`, mark the retention victims
        *deleting* and account the usage; or raise TooLarge (org_quota) and change nothing. Only size and
        sha256 come from `backup`; the rest is the intent row's."""
        ...

    async def keep_alive(self, backup_id: str, at: datetime) -> None:
        """Record that the *uploading* intent `backup_id` still receives its body at `at` (its
        `alive_at`); any other row, or none, is left alone."""
        ...

    async def abort_upload(self, backup_id: str) -> None:
        """Forget an intent row. Absent rows are a no-op."""
        ...

    async def finish_deletion(self, backup_ids: Sequence[str]) -> None:
        """Remove rows left *deleting* once their objects are gone."""
        ...

    async def get_backup(self, system_id: str, backup_id: str) -> Backup | None:
        """The system's *stored* backup with this id, else None (another system's id included)."""
        ...

    async def begin_deletion(
        self, system_id: str, backup_id: str, by: Actor = Actor.APPLIANCE, via: Via | None = None
    ) -> Backup | None:
        """In one transaction serialised per organization: mark the system's stored backup *deleting*,
        uncount its bytes and log `backup.deleted` by `by` (an operator's through `via`). Returns it (now
        *deleting*), or None when there is no such stored backup. Raises Protected (and changes nothing)
        when the backup is protected."""
        ...

    async def begin_system_deletion(
        self, system_id: str, via: Via | None = None, include_protected: bool = False
    ) -> list[Backup]:
        """Mark every row of the system *deleting* (intents and stored backups too), uncount the stored
        ones and log `backup.deleted` (by an operator) for each of them, in one transaction. Returns every
        row of the system, whatever it was. Raises Protected (and changes nothing) while a backup of it is
        protected, unless `include_protected`."""
        ...

    async def set_protection(
        self,
        system_id: str,
        backup_id: str,
        note: str | None,
        *,
        protected: bool,
        max_protected: int,
        via: Via | None = None,
    ) -> Backup | None:
        """Protect (with `note`) or unprotect the system's stored backup, serialised per organization,
        logging `backup.protected` or `backup.unprotected` by an operator through `via`.
        Returns it as it now is, or None when there is no such stored backup. Raises Protected when
        protecting it would make more than `max_protected` protected backups of the system."""
        ...

    async def apply_retention(self, system_id: str, limits: Limits) -> Pruned:
        """Apply the policy in force for the system's organization now (`domain.retention.prune_plan`
        without an incoming backup), as a commit does: the pruned rows *deleting* and uncounted and a
        `backup.pruned` with its rule logged for each, in one
        transaction serialised per organization. Returns them, for the caller to erase their objects."""
        ...

    async def ping(self) -> None:
        """Raise CatalogUnavailable unless the database answers."""
        ...


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    modified: datetime | None = None


@dataclass(frozen=True, slots=True)
class ObjectRead:
    """An object being read: its total `size` and the requested bytes, streamed in `chunks`."""

    size: int
    chunks: AsyncIterator[bytes]


class ObjectStore(Protocol):
    """Blob storage. Raises StoreUnavailable when the store fails."""

    async def put(self, key: str, chunks: AsyncIterator[bytes]) -> int:
        """Stream `chunks` under `key`; return the bytes written. A DomainError raised by `chunks` (cap
        crossed, client gone) propagates unchanged and leaves no object behind; an I/O failure while
        writing is StoreUnavailable, whichever side of the pipe it came from."""
        ...

    async def delete(self, key: str) -> None:
        """Deleting an absent key is a no-op."""
        ...

    async def get(self, key: str, start: int = 0, end: int | None = None) -> ObjectRead:
        """Open bytes `start` to `end` (exclusive; None: to the end) for streaming; the caller keeps the
        range inside the object. Raises ObjectMissing when there is no such object."""
        ...

    async def move(self, source: str, target: str) -> None:
        """Rename an object (fsck's quarantine). Raises ObjectMissing."""
        ...

    async def abandoned(self, older_than: datetime) -> list[str]:
        """Leftovers of interrupted writes last touched before `older_than` (a local store's `<key>#N`
        temp files), as keys `delete` accepts. Stores that leave none answer []."""
        ...

    def list(self, prefix: str) -> AsyncIterator[StoredObject]: ...

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers."""
        ...


class EventLog(Protocol):
    """The append-only event log, for readers. Entries are appended only by the adapters that make the
    changes (catalog, directory), in the changes' own transactions; readers keep their own cursor."""

    async def events_after(self, seq: int, limit: int) -> list[Event]:
        """Up to `limit` entries with a seq above `seq` (-1: from the first), in seq order. An entry
        becomes visible only with its transaction, and seqs are given in commit order, so a reader that
        saw seq N never later finds an entry below N it had not seen."""
        ...

    async def search(self, query: EventQuery) -> list[Event]:
        """The entries `query` matches, in seq order (or newest first), at most `query.limit`."""
        ...

    async def leaves(self, after: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to `limit` stored entries with a seq above `after`, in seq order, as (seq, canonical leaf
        bytes) computed from the stored columns as they are (`domain.events.leaf_bytes`): what the
        checkpointer hashes and `log verify` re-hashes, whatever anyone wrote there."""
        ...


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A signed checkpoint with what the checkpointer needs to go on from it: the tree's right edge."""

    tree_size: int
    root: bytes
    frontier: tuple[bytes, ...]
    note: str
    at: datetime


class CheckpointStore(Protocol):
    """The log's signed checkpoints and the leaf hashes they cover (written by the checkpointer only)."""

    async def latest(self) -> StoredCheckpoint | None: ...

    async def all(self) -> list[StoredCheckpoint]:
        """Every checkpoint, smallest tree first."""
        ...

    async def add(self, checkpoint: StoredCheckpoint, hashes: Sequence[bytes]) -> bool:
        """Store `checkpoint` and the leaf hashes of the entries it adds (seqs from the previous tree size
        on), in one transaction. False (nothing stored) when a checkpoint of this size exists already: a
        racing checkpointer got there first."""
        ...

    async def leaf_hashes(self, size: int) -> list[bytes]:
        """The stored leaf hashes of seqs 0 to `size` - 1 (fewer when fewer are stored)."""
        ...


class SystemHealth(Protocol):
    """What the state rule reads (`domain.health`), and the schedules and refusals it reads them from.
    Raises CatalogUnavailable when the database fails."""

    async def facts(self, org_id: str | None = None, system_key: str | None = None) -> list[SystemFacts]:
        """The facts of every system, of one organization's, or of the one system with this key, ordered
        by system key; one query, whatever the fleet. An unknown org or key gives []."""
        ...

    async def record_refusal(self, system_id: str, error: LastError) -> None:
        """Keep `error` as the system's newest refusal (replacing the one before) and count it. Absent
        ids: no-op."""
        ...

    async def refusals_since(self, since: datetime) -> dict[str, int]:
        """How many refusals each system had at or after `since`, by system id (none: absent)."""
        ...

    async def set_system_schedule(
        self, system_key: str, schedule: ScheduleOverride, event: NewEvent | None = None
    ) -> None:
        """Replace the system's own schedule, appending `event` (`system.schedule_changed`) in the same
        transaction. Raises NotFound for an unknown key."""
        ...

    async def set_org_schedule(self, org_id: str, schedule: ScheduleOverride) -> None:
        """Replace the organization's own schedule. Raises NotFound for an unknown id."""
        ...

    async def announce(self, changes: Sequence[tuple[str, str]], events: Sequence[NewEvent]) -> None:
        """In one transaction: set each (system id, state) as the system's announced state and append
        `events` (the transitions' alerts) to the event log."""
        ...


@dataclass(frozen=True, slots=True)
class SentAnswer:
    """How one try went: the receiver's status, or None and why when no answer came."""

    status: int | None
    error: str | None = None


class WebhookSender(Protocol):
    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SentAnswer:
        """POST once with a 10 s timeout, following no redirect. Never raises: a refused connection, a
        reset or a timeout is an answer without a status."""
        ...


class WebhookStore(Protocol):
    """Webhooks, their deliveries and the notifier's cursor. Raises CatalogUnavailable when the database
    fails. Each change appends its event log entries in its own transaction."""

    async def add(self, hook: Webhook, event: NewEvent) -> None: ...

    async def remove(self, webhook_id: str, event: NewEvent) -> bool:
        """Remove the webhook and its deliveries; False (nothing written) when there is none."""
        ...

    async def get(self, webhook_id: str) -> Webhook | None: ...

    async def all(self) -> list[Webhook]:
        """Every webhook, oldest first."""
        ...

    async def deliveries(self, webhook_id: str, limit: int) -> list[Delivery]:
        """The webhook's deliveries, newest event first."""
        ...

    async def test(self, webhook_id: str, event: NewEvent) -> bool:
        """Append `event` (type `test`) when the webhook exists; False otherwise."""
        ...

    async def cursor(self, name: str) -> int:
        """The last event seq the reader `name` has queued (-1 before the first)."""
        ...

    async def enqueue(self, name: str, after: int, upto: int, deliveries: Sequence[Delivery]) -> None:
        """In one transaction: move `name`'s cursor from `after` to `upto` and insert `deliveries` (one per
        webhook and seq, at most). When the cursor is no longer at `after` (another replica queued them),
        nothing is written."""
        ...

    async def due(self, now: datetime, limit: int) -> list[Delivery]:
        """Pending deliveries whose next try is at or before `now`, oldest event first."""
        ...

    async def record(self, delivery: Delivery) -> None:
        """Store a try's outcome (attempts, state, next try, last status and error)."""
        ...
