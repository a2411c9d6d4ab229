"""The commit decision, shared by every catalog adapter: retention victims plus the quota check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from domain import quota, retention
from domain.errors import TooLarge
from domain.model import Backup, BackupState, Limits


@dataclass(frozen=True, slots=True)
class CommitPlan:
    """`victims`: stored backups to mark *deleting*. `superseded`: the incoming backup is older than
    every one the caps keep (a racing upload committed first), so it is pruned at once.
    `used_after`: the organization's committed bytes once the plan is carried out."""

    victims: list[Backup]
    superseded: bool
    used_after: int


def plan_commit(
    *,
    stored: Sequence[Backup],
    incoming_size: int,
    used_bytes: int,
    quota_override: int | None,
    limits: Limits,
    incoming_id: str = retention.NEWEST,
) -> CommitPlan:
    """What committing `incoming_size` bytes does, or TooLarge when the org quota refuses even after
    crediting what retention frees from the same system. Used both for the advisory check (the
    incoming backup then counts as the newest) and inside the commit transaction."""
    pruned = set(
        retention.victims(stored, incoming_id, incoming_size, limits.max_per_system, limits.max_size_per_system)
    )
    chosen = [b for b in stored if b.id in pruned]
    superseded = incoming_id in pruned
    freed = sum(b.size for b in chosen)
    added = 0 if superseded else incoming_size
    applicable = quota.effective_quota(quota_override, limits.max_size_per_org)
    if not quota.fits(used_bytes, freed, added, applicable):
        # Never tell the appliance how much its organization stores.
        raise TooLarge("org_quota", "organization quota exceeded", str(incoming_size))
    return CommitPlan(victims=chosen, superseded=superseded, used_after=used_bytes - freed + added)


def pruned(plan: CommitPlan, incoming: Backup) -> list[Backup]:
    """Every backup the commit marked *deleting*, the superseded incoming one included."""
    victims = [replace(v, state=BackupState.DELETING) for v in plan.victims]
    return [*victims, replace(incoming, state=BackupState.DELETING)] if plan.superseded else victims
