"""Retention policy: which of a system's backups to keep, which to prune, and the rule behind each.

The selection is Proxmox Backup Server's (`mark_selections`): over the unprotected backups newest first
(UUIDv7 order), `keep_last` keeps the N newest; then each tier (UTC days, ISO weeks, calendar months)
walks them newest first, skipping those already kept or dropped; a backup whose period already holds a
kept backup is passed over, the first of a new period is kept until the tier has its count (the walk then
stops), a later one of a period the tier has just kept is dropped. What no rule keeps is pruned.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.errors import InvalidInput, TooLarge
from domain.model import Backup, RetentionPolicy

# Sorts after every UUIDv7 text: the id of a backup that is newer than all the stored ones.
NEWEST = "~"
PROTECTED = "protected"
_LAST = "last"


class PruneRule(enum.StrEnum):
    """Why a backup was pruned: the tier that dropped it (a later backup of a period the tier kept) or,
    for one no tier reached, the last tier of the policy; the system's size cap; or `superseded` (the
    incoming upload itself, which the policy does not keep: a racing newer one committed first)."""

    LAST = "last"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    SIZE_CAP = "size_cap"
    SUPERSEDED = "superseded"


@dataclass(frozen=True, slots=True)
class Slot:
    """What the selection looks at of a backup."""

    id: str
    at: datetime
    size: int
    protected: bool = False

    @classmethod
    def of(cls, backup: Backup) -> Slot:
        return cls(backup.id, backup.uploaded_at, backup.size, backup.protected)


@dataclass(frozen=True, slots=True)
class Selection:
    """`kept`: id → `kept_by` (`last`, `daily 2026-12-03`, `weekly 2026-W49`, `monthly 2026-11`,
    `protected`). `dropped`: id → the rule that prunes it. Every backup is in exactly one of them."""

    kept: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, PruneRule] = field(default_factory=dict)


def _day(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d")


def _week(at: datetime) -> str:
    year, week, _ = at.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def _month(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m")


def _tiers(policy: RetentionPolicy) -> list[tuple[PruneRule, int, Callable[[Slot], str]]]:
    return [
        (PruneRule.LAST, policy.keep_last, lambda s: s.id),
        (PruneRule.DAILY, policy.keep_daily, lambda s: _day(s.at)),
        (PruneRule.WEEKLY, policy.keep_weekly, lambda s: _week(s.at)),
        (PruneRule.MONTHLY, policy.keep_monthly, lambda s: _month(s.at)),
    ]


def select(slots: Sequence[Slot], policy: RetentionPolicy) -> Selection:
    """What `policy` keeps of `slots` and why, and the rule that prunes each of the others."""
    chosen = Selection(kept={s.id: PROTECTED for s in slots if s.protected})
    newest_first = sorted((s for s in slots if not s.protected), key=lambda s: s.id, reverse=True)
    if policy.total == policy.keep_last:
        # Only keep_last (the default policy, every commit of most fleets): the N newest, the rest `last`.
        chosen.kept.update((s.id, _LAST) for s in newest_first[: policy.keep_last])
        chosen.dropped.update((s.id, PruneRule.LAST) for s in newest_first[policy.keep_last :])
        return chosen
    last_rule = PruneRule.LAST
    for rule, count, period in _tiers(policy):
        if count <= 0:
            continue
        last_rule = rule
        already = {period(s) for s in newest_first if s.id in chosen.kept}
        taken: set[str] = set()
        for slot in newest_first:
            if slot.id in chosen.kept or slot.id in chosen.dropped:
                continue
            key = period(slot)
            if key in already:
                continue
            if key in taken:
                chosen.dropped[slot.id] = rule
                continue
            if len(taken) >= count:
                break
            taken.add(key)
            chosen.kept[slot.id] = rule.value if rule is PruneRule.LAST else f"{rule.value} {key}"
    for slot in newest_first:
        if slot.id not in chosen.kept and slot.id not in chosen.dropped:
            chosen.dropped[slot.id] = last_rule
    return chosen


def prune_plan(
    stored: Sequence[Slot], policy: RetentionPolicy, max_total_size: int, incoming: Slot | None = None
) -> dict[str, PruneRule]:
    """The ids to prune, oldest first, each with its rule, when `incoming` commits beside `stored` (or,
    without one, when the policy is applied now): every unprotected backup the policy does not keep
    (the incoming one `superseded`), then, while the bytes kept (protected ones included) exceed
    `max_total_size`, the oldest kept unprotected one other than the incoming one (`size_cap`).

    Raises:
        TooLarge: key `size_cap`, when the protected backups and the incoming one alone exceed the cap.
    """
    everything = [*stored] if incoming is None else [*stored, incoming]
    protected = sum(s.size for s in stored if s.protected)
    # Without protected backups the effective upload cap guarantees that the upload fits alone.
    if incoming is not None and protected and protected + incoming.size > max_total_size:
        raise TooLarge(
            "size_cap",
            "the protected backups and this upload exceed the system's size cap",
            str(incoming.size),
            {"limit_bytes": max_total_size},
        )
    chosen = dict(select(everything, policy).dropped)
    if incoming is not None and incoming.id in chosen:
        chosen[incoming.id] = PruneRule.SUPERSEDED
    remaining = sorted((s for s in everything if s.id not in chosen), key=lambda s: s.id)
    total = sum(s.size for s in remaining)
    for slot in remaining:
        if total <= max_total_size:
            break
        if slot.protected or (incoming is not None and slot.id == incoming.id):
            continue
        chosen[slot.id] = PruneRule.SIZE_CAP
        total -= slot.size
    return dict(sorted(chosen.items()))


def decide(
    stored: Sequence[Backup], incoming_id: str, incoming_size: int, max_count: int, max_total_size: int
) -> dict[str, PruneRule]:
    """`prune_plan` under the seed's rule (the newest `max_count`), for callers without a policy."""
    incoming = Slot(incoming_id, max((b.uploaded_at for b in stored), default=datetime.now(UTC)), incoming_size)
    return prune_plan([Slot.of(b) for b in stored], RetentionPolicy(keep_last=max_count), max_total_size, incoming)


def victims(
    stored: Sequence[Backup], incoming_id: str, incoming_size: int, max_count: int, max_total_size: int
) -> list[str]:
    """The ids `decide` prunes, oldest first."""
    return list(decide(stored, incoming_id, incoming_size, max_count, max_total_size))


def check_policy(policy: RetentionPolicy, max_per_system: int) -> RetentionPolicy:
    """The policy, if valid: `keep_last` ≥ 1, the tiers ≥ 0, their sum ≤ `max_per_system`.

    Raises:
        InvalidInput: key `retention`.
    """
    values: Mapping[str, object] = {
        "keep_last": policy.keep_last,
        "keep_daily": policy.keep_daily,
        "keep_weekly": policy.keep_weekly,
        "keep_monthly": policy.keep_monthly,
    }
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidInput("retention", f"{name} must be a whole number", str(value))
        if value < (1 if name == "keep_last" else 0):
            raise InvalidInput("retention", f"{name} must be at least {1 if name == 'keep_last' else 0}", str(value))
    if policy.total > max_per_system:
        raise InvalidInput(
            "retention",
            f"keep_last + keep_daily + keep_weekly + keep_monthly = {policy.total} exceeds "
            f"BACKUP_MAX_PER_SYSTEM ({max_per_system})",
            str(policy.total),
        )
    return policy
