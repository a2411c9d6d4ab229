"""Ports: the ledger: who may upload (SystemDirectory) and what is stored and counted (BackupCatalog)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.events import Actor, Via
from domain.ledger import Committed, Pruned
from domain.model import Backup, Limits, Organization, RetentionPolicy, SystemIdentity, SystemRecord


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
