"""Random upload timelines under random policies: the selection against a plain reference of the rules,
one backup at a time through the in-memory catalog's commit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.catalog import InMemoryBackupCatalog
from adapters.memory.directory import InMemorySystemDirectory
from adapters.memory.tables import Tables
from domain.model import Limits, RetentionPolicy
from domain.retention import PROTECTED, Slot, select
from tests.integration.contracts.builders import intent, new_org, new_system

START = datetime(2026, 1, 1, tzinfo=UTC)


def reference(stamps: list[tuple[str, datetime, bool]], policy: RetentionPolicy) -> dict[str, str | None]:
    """PBS's prune as its documentation tells it, written out plainly: id → kept_by, None = pruned."""

    def week(at: datetime) -> str:
        monday = at.date() - timedelta(days=at.weekday())
        thursday = monday + timedelta(days=3)  # an ISO week belongs to the year of its Thursday
        first_thursday = date(thursday.year, 1, 1)
        while first_thursday.weekday() != 3:
            first_thursday += timedelta(days=1)
        return f"{thursday.year}-W{(thursday - first_thursday).days // 7 + 1:02d}"

    marks: dict[str, str | None] = {i: PROTECTED for i, _, p in stamps if p}
    order = sorted(((i, at) for i, at, p in stamps if not p), reverse=True)

    def day(at: datetime) -> str:
        return f"{at.year:04d}-{at.month:02d}-{at.day:02d}"

    def month(at: datetime) -> str:
        return f"{at.year:04d}-{at.month:02d}"

    def last(_: datetime) -> str:
        return ""  # never consulted: keep_last's period is the backup itself

    tiers: list[tuple[str, int, Callable[[datetime], str]]] = [
        ("last", policy.keep_last, last),
        ("daily", policy.keep_daily, day),
        ("weekly", policy.keep_weekly, week),
        ("monthly", policy.keep_monthly, month),
    ]
    for name, keep, period in tiers:
        if keep == 0:
            continue
        seen = {i if name == "last" else period(at) for i, at in order if marks.get(i) not in (None, PROTECTED)}
        mine: list[str] = []
        for i, at in order:
            if i in marks:
                continue
            p = i if name == "last" else period(at)
            if p in seen:
                continue
            if p in mine:
                marks[i] = None
            elif len(mine) == keep:
                break
            else:
                mine.append(p)
                marks[i] = "last" if name == "last" else f"{name} {p}"
    return {i: marks.get(i) for i, _, _ in stamps}


policies = st.builds(
    RetentionPolicy,
    keep_last=st.integers(1, 4),
    keep_daily=st.integers(0, 4),
    keep_weekly=st.integers(0, 3),
    keep_monthly=st.integers(0, 3),
)
# Gaps between uploads: minutes to weeks, so days, ISO weeks (across new year) and months all turn.
gaps = st.lists(st.sampled_from([60, 3600, 6 * 3600, 86400, 3 * 86400, 8 * 86400, 40 * 86400]), max_size=40)


@given(policy=policies, gaps=gaps, protected=st.sets(st.integers(0, 39), max_size=3))
def test_the_selection_is_the_reference_one(policy: RetentionPolicy, gaps: list[int], protected: set[int]) -> None:
    at, stamps = START, []
    for n, gap in enumerate(gaps):
        at += timedelta(seconds=gap)
        stamps.append((f"{n:08d}", at, n in protected))
    chosen = select([Slot(i, at, 1, p) for i, at, p in stamps], policy)
    assert set(chosen.kept) | set(chosen.dropped) == {i for i, _, _ in stamps}
    assert not set(chosen.kept) & set(chosen.dropped)
    assert {i: chosen.kept.get(i) for i, _, _ in stamps} == reference(stamps, policy)


@settings(max_examples=60, deadline=None)
@given(policy=policies, gaps=gaps)
def test_commits_keep_what_the_reference_keeps_one_upload_at_a_time(policy: RetentionPolicy, gaps: list[int]) -> None:
    asyncio.run(_timeline(policy, gaps))


async def _timeline(policy: RetentionPolicy, gaps: list[int]) -> None:
    tables = Tables()
    directory, catalog = InMemorySystemDirectory(tables), InMemoryBackupCatalog(tables)
    org = await new_org(directory)
    await directory.set_org_retention(org, policy)
    who = await new_system(directory, org)
    limits = Limits(max_upload_size=100, max_per_system=policy.total, max_size_per_system=10**6, max_size_per_org=0)
    at, sizes = START, 0
    kept: list[tuple[str, datetime, bool]] = []
    for gap in gaps:
        at += timedelta(seconds=gap)
        started = intent(who, 10, uploaded_at=at)
        await catalog.begin_upload(started)
        committed = await catalog.commit_upload(started, limits, at)
        await catalog.finish_deletion([b.id for b in committed.pruned])
        stamps = [*kept, (started.id, at, False)]
        expected = reference(stamps, policy)
        kept = [s for s in stamps if expected[s[0]] is not None]
        assert [b.id for b in await catalog.stored_backups(who.system_id)] == sorted(i for i, _, _ in kept)
        assert {b.id for b in committed.pruned} == {i for i, kept_by in expected.items() if kept_by is None}
        assert set(committed.rules) == {b.id for b in committed.pruned}
        sizes = 10 * len(kept)
        assert (await catalog.org_usage(org)).used_bytes == sizes
