"""Retention policy: which of a system's backups to prune so its caps hold."""

from __future__ import annotations

from collections.abc import Sequence

from domain.model import Backup


def victims(stored: Sequence[Backup], incoming_size: int, max_count: int, max_total_size: int) -> list[Backup]:
    """The oldest stored backups (by id, UUIDv7 order) to prune so that, with the incoming one,
    at most `max_count` backups and `max_total_size` bytes remain. The incoming one is never a victim:
    the effective upload cap guarantees it fits alone."""
    ordered = sorted(stored, key=lambda b: b.id)
    count = len(ordered) + 1
    total = sum(b.size for b in ordered) + incoming_size
    chosen: list[Backup] = []
    for backup in ordered:
        if count <= max_count and total <= max_total_size:
            break
        chosen.append(backup)
        count -= 1
        total -= backup.size
    return chosen
