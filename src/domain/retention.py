"""Retention policy: which of a system's backups to prune so its caps hold, and the rule that drops each."""

from __future__ import annotations

import enum
from collections.abc import Sequence

from domain.model import Backup

# Sorts after every UUIDv7 text: the id of a backup that is newer than all the stored ones.
NEWEST = "~"


class PruneRule(enum.StrEnum):
    """Why a backup was pruned: the tier whose selection left it out (`last`, `daily`, `weekly`,
    `monthly`: the last tier the policy walks), the system's size cap, or `superseded` (an upload older
    than everything kept, pruned at its own commit)."""

    LAST = "last"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    SIZE_CAP = "size_cap"
    SUPERSEDED = "superseded"


def decide(
    stored: Sequence[Backup], incoming_id: str, incoming_size: int, max_count: int, max_total_size: int
) -> dict[str, PruneRule]:
    """The ids to prune, oldest first (UUIDv7 order), each with its rule, so that at most `max_count`
    backups and `max_total_size` bytes remain of the stored ones plus the incoming one. When racing
    uploads of one system commit out of order, the incoming one can be older than those kept, and is then
    pruned itself (`superseded`): exactly the newest remain. The effective upload cap guarantees the
    newest fits alone."""
    candidates = sorted([(b.id, b.size) for b in stored] + [(incoming_id, incoming_size)])
    count = len(candidates)
    total = sum(size for _, size in candidates)
    chosen: dict[str, PruneRule] = {}
    for backup_id, size in candidates:
        if count <= max_count and total <= max_total_size:
            break
        if backup_id == incoming_id:
            chosen[backup_id] = PruneRule.SUPERSEDED
        else:
            chosen[backup_id] = PruneRule.LAST if count > max_count else PruneRule.SIZE_CAP
        count -= 1
        total -= size
    return chosen


def victims(
    stored: Sequence[Backup], incoming_id: str, incoming_size: int, max_count: int, max_total_size: int
) -> list[str]:
    """The ids `decide` prunes, oldest first."""
    return list(decide(stored, incoming_id, incoming_size, max_count, max_total_size))
