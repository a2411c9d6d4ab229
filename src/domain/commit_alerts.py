"""The alerts a commit decides in its own transaction: `backup.size_anomaly` and `org.quota_near`. They
ride in the same multi-row event log insert as `backup.stored`, so the upload pays no extra statement."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import UTC, datetime

from domain.events import Actor, EventType, NewEvent, backup_event
from domain.model import Backup

NEAR = 0.9
"""`org.quota_near` when committed bytes cross this share of the effective quota upward."""
MIN_HISTORY = 3


def commit_alerts(
    *,
    backup: Backup,
    previous: Sequence[Backup],
    ratio: float,
    used_before: int,
    used_after: int,
    quota: int,
    at: datetime,
) -> list[NewEvent]:
    """`previous`: the system's stored backups before this one; `quota`: the effective quota (0: none)."""
    found = []
    if ratio > 0 and len(previous) >= MIN_HISTORY:
        median = statistics.median(b.size for b in previous)
        if backup.size * ratio < median or backup.size > median * ratio:
            detail: dict[str, str | int | bool | None] = {
                "size": backup.size,
                "median": int(median),
                "ratio": f"{ratio:g}",
                "previous": len(previous),
                # SPEC's body names the system's state and last backup time: just stored, it is `up`.
                "state": "up",
                "last_backup_at": backup.uploaded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            found.append(backup_event(EventType.BACKUP_SIZE_ANOMALY, backup, at, Actor.SERVICE, detail))
    threshold = quota * NEAR
    if quota > 0 and used_before < threshold <= used_after:
        near: dict[str, str | int | bool | None] = {
            "used_bytes": used_after,
            "quota_bytes": quota,
            "percent": int(100 * used_after // quota),
        }
        found.append(NewEvent(at=at, type=EventType.ORG_QUOTA_NEAR, org_id=backup.org_id, detail=near))
    return found
