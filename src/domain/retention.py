"""Retention policy: which of a system's backups to prune so its caps hold."""

from __future__ import annotations

from collections.abc import Sequence

from domain.model import Backup

# Sorts after every UUIDv7 text: the id of a backup that is newer than all the stored ones.
NEWEST = "~"


def victims(
    stored: Sequence[Backup], incoming_id: str, incoming_size: int, max_count: int, max_total_size: int
) -> list[str]:
    """The ids to prune, oldest first (UUIDv7 order), so that at most `max_count` backups and
    `max_total_size` bytes remain of the stored ones plus the incoming one. When racing uploads of one
    system commit out of order, the incoming one can be older than those kept, and is then pruned
    itself: exactly the newest remain. The effective upload cap guarantees the newest fits alone."""
    candidates = sorted([(b.id, b.size) for b in stored] + [(incoming_id, incoming_size)])
    count = len(candidates)
    total = sum(size for _, size in candidates)
    chosen: list[str] = []
    for backup_id, size in candidates:
        if count <= max_count and total <= max_total_size:
            break
        chosen.append(backup_id)
        count -= 1
        total -= size
    return chosen
