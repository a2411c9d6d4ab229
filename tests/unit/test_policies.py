from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import TooLarge
from domain.ledger import plan_commit
from domain.model import Backup, Limits
from domain.retention import NEWEST, PruneRule, decide, victims

T0 = datetime(2026, 4, 12, 2, 15, tzinfo=UTC)


def backup(n: int, size: int) -> Backup:
    backup_id = f"0193{n:04x}-0000-7000-8000-000000000000.bin"
    return Backup(
        id=backup_id,
        system_id="s",
        org_id="o",
        object_key=f"o/k/{backup_id}",
        filename="f",
        envelope=".gpg",
        size=size,
        sha256="",
        mimetype="application/octet-stream",
        uploaded_at=T0,
    )


def limits(max_per_system: int = 3, max_size_per_org: int = 0, **kw: int) -> Limits:
    return Limits(
        max_upload_size=kw.get("max_upload_size", 1000),
        max_per_system=max_per_system,
        max_size_per_system=kw.get("max_size_per_system", 1000),
        max_size_per_org=max_size_per_org,
    )


def test_oldest_backups_are_pruned_past_the_slot_cap() -> None:
    stored = [backup(n, 10) for n in (3, 1, 2)]
    assert victims(stored, NEWEST, 10, max_count=3, max_total_size=1000) == [backup(1, 10).id]


def test_oldest_backups_are_pruned_until_the_size_cap_holds() -> None:
    stored = [backup(n, 400) for n in range(3)]
    chosen = victims(stored, NEWEST, 500, max_count=10, max_total_size=1000)
    assert chosen == [backup(0, 400).id, backup(1, 400).id]


def test_nothing_is_pruned_while_both_caps_hold() -> None:
    assert victims([backup(1, 10)], NEWEST, 10, max_count=2, max_total_size=20) == []


def test_an_upload_committing_after_newer_ones_is_itself_pruned() -> None:
    stored = [backup(n, 10) for n in (2, 3, 4)]
    late = backup(1, 10)
    plan = plan_commit(
        stored=stored, incoming_id=late.id, incoming_size=10, used_bytes=30, quota_override=None, limits=limits()
    )
    assert plan.superseded
    assert plan.victims == []
    assert plan.used_after == 30


def test_quota_counts_the_retention_victims_as_freed() -> None:
    stored = [backup(n, 100) for n in range(3)]
    plan = plan_commit(
        stored=stored, incoming_size=100, used_bytes=300, quota_override=300, limits=limits(max_per_system=3)
    )
    assert len(plan.victims) == 1
    assert plan.used_after == 300


def test_quota_refuses_without_telling_the_usage() -> None:
    with pytest.raises(TooLarge) as refused:
        plan_commit(stored=[], incoming_size=101, used_bytes=200, quota_override=300, limits=limits())
    assert refused.value.key == "org_quota"
    assert "200" not in str(refused.value)
    assert "300" not in str(refused.value)


def test_org_override_zero_means_no_quota_and_none_follows_the_default() -> None:
    unlimited = plan_commit(stored=[], incoming_size=10**9, used_bytes=10**12, quota_override=0, limits=limits())
    assert unlimited.victims == []
    with pytest.raises(TooLarge):
        plan_commit(stored=[], incoming_size=2, used_bytes=9, quota_override=None, limits=limits(max_size_per_org=10))


def test_effective_upload_cap_is_the_smaller_of_upload_and_system_caps() -> None:
    assert limits(max_upload_size=5000, max_size_per_system=800).effective_upload_cap == 800


def test_each_pruned_backup_carries_the_rule_that_dropped_it() -> None:
    stored = [backup(n, 400) for n in (2, 3, 4)]
    late = backup(1, 10)
    assert decide(stored, late.id, 10, max_count=2, max_total_size=10**6) == {
        late.id: PruneRule.SUPERSEDED,
        backup(2, 400).id: PruneRule.LAST,
    }
    # Within the slot cap, the bytes decide.
    assert decide(stored, NEWEST, 400, max_count=10, max_total_size=1000) == {
        backup(2, 400).id: PruneRule.SIZE_CAP,
        backup(3, 400).id: PruneRule.SIZE_CAP,
    }


def test_the_commit_plan_carries_the_rules_of_its_prunes() -> None:
    stored = [backup(n, 10) for n in (2, 3, 4)]
    late = backup(1, 10)
    plan = plan_commit(
        stored=stored, incoming_id=late.id, incoming_size=10, used_bytes=30, quota_override=None, limits=limits()
    )
    assert plan.rules == {late.id: PruneRule.SUPERSEDED}
