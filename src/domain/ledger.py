"""The commit decision, shared by every catalog adapter: retention victims plus the quota check."""

from __future__ import annotations

from collections.abc import Sequence

from domain import quota, retention
from domain.errors import TooLarge
from domain.model import Backup, Limits


def plan_commit(
    *,
    stored: Sequence[Backup],
    incoming_size: int,
    used_bytes: int,
    quota_override: int | None,
    limits: Limits,
) -> list[Backup]:
    """The victims that make room for `incoming_size` bytes, or TooLarge when the org quota
    refuses even after crediting them. Used both for the advisory check and inside the commit."""
    chosen = retention.victims(stored, incoming_size, limits.max_per_system, limits.max_size_per_system)
    freed = sum(b.size for b in chosen)
    applicable = quota.effective_quota(quota_override, limits.max_size_per_org)
    if not quota.fits(used_bytes, freed, incoming_size, applicable):
        # Never tell the appliance how much its organization stores.
        raise TooLarge("org_quota", "organization quota exceeded", str(incoming_size))
    return chosen
