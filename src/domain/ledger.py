"""The commit decision, shared by every catalog adapter: an equal backup already stored (duplicate body,
replayed Idempotency-Key), else retention victims plus the quota check.

A catalog's `commit_upload` runs, in one transaction serialised per organization:
1. `settle(incoming, stored, now)`: when it names an existing backup, the intent row is marked *deleting*
   (its object is erased like a victim's, and a failure leaves it to the reaper) and nothing else changes:
   no slot, no prune, no usage — `Committed(existing, DUPLICATE | REPLAYED, [], dropped=intent)`;
   `KeyReused` rolls back and the caller discards the upload as after any failure;
2. otherwise `plan_commit(...)` and `pruned(plan, incoming)`: the intent becomes stored (with `committed_at`
   = now), the victims *deleting*, the usage `used_after` — `Committed(incoming, STORED, pruned)`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from domain import quota, retention
from domain.errors import KeyReused, OverQuota, Protected
from domain.model import Backup, BackupState, Limits, RetentionPolicy
from domain.retention import PruneRule

# An Idempotency-Key is remembered this long after its upload committed.
KEY_LIFETIME = timedelta(hours=24)


class Outcome(enum.StrEnum):
    """How an upload ended: a new backup (`201`), the same body as a stored backup (`200`), or a retry
    of an upload whose Idempotency-Key committed already (`201`, `Idempotent-Replayed: true`)."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    REPLAYED = "replayed"


@dataclass(frozen=True, slots=True)
class Committed:
    """What a commit did. `backup`: the new one (STORED) or the existing one the upload equals.
    `pruned`: rows retention marked *deleting* (the incoming one too when superseded), whose objects
    the caller erases; always empty for DUPLICATE and REPLAYED. `dropped`: for those two, the upload's
    own intent, now *deleting*, whose object the caller erases too. `rules`: for each id in `pruned`,
    the rule that dropped it (what logs, metrics and the event log record)."""

    backup: Backup
    outcome: Outcome
    pruned: list[Backup]
    dropped: Backup | None = None
    rules: Mapping[str, PruneRule] = field(default_factory=dict)
    seq: int | None = None
    """The seq of the event log entry that records this answer (`backup.stored`, `.duplicate` or
    `.replayed`): the receipt's leaf index."""


@dataclass(frozen=True, slots=True)
class Pruned:
    """What applying a policy outside a commit did: rows now *deleting* and the rule that dropped each."""

    pruned: list[Backup]
    rules: Mapping[str, PruneRule] = field(default_factory=dict)


def plan_apply(stored: Sequence[Backup], limits: Limits, policy: RetentionPolicy | None) -> dict[str, PruneRule]:
    """What applying the policy in force (the org's `policy`, else the default) prunes now."""
    slots = [retention.Slot.of(b) for b in stored]
    return retention.prune_plan(slots, limits.policy_for(policy), limits.max_size_per_system)


def check_room(stored: Sequence[Backup], backup: Backup, protected: bool, max_protected: int) -> None:
    """Raise Protected when protecting `backup` would pass `max_protected` protected backups."""
    others = sum(1 for b in stored if b.protected and b.id != backup.id)
    if protected and not backup.protected and others >= max_protected:
        raise Protected(f"the system has {others} protected backups already, the most allowed", backup.id)


def check_unprotected(stored: Sequence[Backup], include_protected: bool) -> None:
    """Raise Protected when a system with protected backups is to be destroyed without consent."""
    held = [b.id for b in stored if b.protected]
    if held and not include_protected:
        raise Protected(f"{len(held)} protected backups; destroy with include_protected to erase them", held[0])


def settle(incoming: Backup, stored: Sequence[Backup], now: datetime) -> tuple[Outcome, Backup] | None:
    """The stored backup that answers for `incoming` instead of a new one, if any.

    A key of `incoming` used by a stored backup of the system committed less than KEY_LIFETIME ago:
    the same body (SHA-256 and size) replays it, another body raises KeyReused. Otherwise a stored
    backup with the same SHA-256 and size makes `incoming` a duplicate."""
    key = incoming.idempotency_key
    if key is not None:
        for backup in stored:
            if backup.idempotency_key == key and _fresh(backup, now):
                if _same_body(backup, incoming):
                    return Outcome.REPLAYED, backup
                raise KeyReused(key)
    for backup in stored:
        if _same_body(backup, incoming):
            return Outcome.DUPLICATE, backup
    return None


def _fresh(backup: Backup, now: datetime) -> bool:
    return backup.committed_at is not None and now - backup.committed_at < KEY_LIFETIME


def _same_body(a: Backup, b: Backup) -> bool:
    return a.sha256 == b.sha256 and a.size == b.size


@dataclass(frozen=True, slots=True)
class CommitPlan:
    """`victims`: stored backups to mark *deleting*. `superseded`: the incoming backup is older than
    every one the caps keep (a racing upload committed first), so it is pruned at once.
    `used_after`: the organization's committed bytes once the plan is carried out. `rules`: the rule
    that drops each pruned id (the victims', and the incoming one's when superseded)."""

    victims: list[Backup]
    superseded: bool
    used_after: int
    rules: Mapping[str, PruneRule] = field(default_factory=dict)


def plan_commit(
    *,
    stored: Sequence[Backup],
    incoming_size: int,
    used_bytes: int,
    quota_override: int | None,
    limits: Limits,
    incoming_id: str = retention.NEWEST,
    incoming_at: datetime | None = None,
    policy: RetentionPolicy | None = None,
) -> CommitPlan:
    """What committing `incoming_size` bytes does under `policy` (None: the default one), or TooLarge:
    `size_cap` when the protected backups and the upload alone exceed the system's size cap,
    `org_quota` when the org quota refuses even after crediting what retention frees from the same
    system. Used both for the advisory check (the incoming backup then counts as the newest, uploaded at
    `incoming_at`) and inside the commit transaction."""
    at = incoming_at or max((b.uploaded_at for b in stored), default=datetime.now(UTC))
    pruned = retention.prune_plan(
        [retention.Slot.of(b) for b in stored],
        limits.policy_for(policy),
        limits.max_size_per_system,
        retention.Slot(incoming_id, at, incoming_size),
    )
    chosen = [b for b in stored if b.id in pruned]
    superseded = incoming_id in pruned
    freed = sum(b.size for b in chosen)
    added = 0 if superseded else incoming_size
    applicable = quota.effective_quota(quota_override, limits.max_size_per_org)
    if not quota.fits(used_bytes, freed, added, applicable):
        # Never tell the appliance how much its organization stores.
        raise OverQuota(incoming_size)
    return CommitPlan(victims=chosen, superseded=superseded, used_after=used_bytes - freed + added, rules=pruned)


def pruned(plan: CommitPlan, incoming: Backup) -> list[Backup]:
    """Every backup the commit marked *deleting*, the superseded incoming one included."""
    victims = [replace(v, state=BackupState.DELETING) for v in plan.victims]
    return [*victims, replace(incoming, state=BackupState.DELETING)] if plan.superseded else victims
