"""Random sequences of uploads and cap changes against a small reference model."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import RateLimited, TooLarge
from domain.maintenance import cap_violations, usage_drift
from domain.model import Limits, SystemIdentity
from domain.restore import BackupAccess
from tests.unit.fakes import AsUploaded, World, pgp, upload

QUOTA = 600


@dataclass
class Model:
    """What the service should hold: per system, (id, size) oldest first."""

    limits: Limits
    systems: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def used(self) -> int:
        return sum(size for backups in self.systems.values() for _, size in backups)

    def upload(self, system: str, backup_id: str, size: int) -> bool:
        if size > self.limits.effective_upload_cap:
            return False
        kept = list(self.systems.get(system, []))
        freed = 0
        while kept and (
            len(kept) + 1 > self.limits.max_per_system
            or sum(s for _, s in kept) + size > self.limits.max_size_per_system
        ):
            freed += kept.pop(0)[1]
        if self.used() - freed + size > QUOTA:
            return False
        self.systems[system] = [*kept, (backup_id, size)]
        return True

    def delete(self, system: str, nth: int) -> str | None:
        kept = self.systems.get(system, [])
        if not kept:
            return None
        backup_id, _ = kept.pop(nth % len(kept))
        return backup_id


# At least 8 bytes: each body carries its step number, so no two are equal (equal bodies are duplicates).
upload_step = st.tuples(st.just("upload"), st.integers(0, 2), st.integers(8, 260))
cap_step = st.tuples(st.just("caps"), st.integers(1, 4), st.integers(200, 700))
delete_step = st.tuples(st.just("delete"), st.integers(0, 2), st.integers(0, 9))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(upload_step, upload_step, upload_step, cap_step, delete_step), min_size=1, max_size=40))
def test_invariants_hold_and_retention_prunes_exactly_the_oldest(steps: list[tuple[str, int, int]]) -> None:
    asyncio.run(_play(steps))


def distinct(size: int, step: int) -> bytes:
    """An OpenPGP-looking body of `size` bytes no other step sends."""
    return pgp(size)[:1] + step.to_bytes(7, "big") + bytes(size - 8)


async def _play(steps: list[tuple[str, int, int]]) -> None:
    limits = Limits(max_upload_size=300, max_per_system=3, max_size_per_system=500, max_size_per_org=0)
    world = World(limits=limits, windows={})
    org = await world.registry.create_org("acme", QUOTA)
    systems: list[SystemIdentity] = []
    for _ in range(3):
        created = await world.registry.create_system(org.id)
        who = await world.directory.authenticate(created.system_key, created.system_secret)
        assert who is not None
        systems.append(who)
    model = Model(limits)
    ingest = world.ingest
    access = BackupAccess(catalog=world.catalog, objects=world.objects, limits=limits)
    for step, (kind, a, b) in enumerate(steps):
        if kind == "caps":
            limits = replace(limits, max_per_system=a, max_size_per_system=b)
            model.limits = limits
            ingest = AsUploaded(replace(ingest.use_case, limits=limits))
            continue
        who = systems[a]
        if kind == "delete":
            doomed = model.delete(who.system_id, b)
            if doomed is not None:
                await access.delete(who, doomed)
        else:
            try:
                backup_id: str | None = (await ingest(who, upload(distinct(b, step)))).backup.id
            except (TooLarge, RateLimited):
                backup_id = None
            assert (backup_id is not None) == model.upload(who.system_id, backup_id or "", b)
            if backup_id is not None:
                mine = [r for r in world.catalog.rows.values() if r.system_id == who.system_id]
                assert cap_violations(mine, limits, {org.id: QUOTA}) == []
        stored = await world.catalog.stored_backups(who.system_id)
        assert [(r.id, r.size) for r in stored] == model.systems.get(who.system_id, [])
        every = list(world.catalog.rows.values())
        assert usage_drift(every, {org.id: world.catalog.used.get(org.id, 0)}) == []
        assert world.catalog.used.get(org.id, 0) <= QUOTA
        assert sorted(o.key for o in [o async for o in world.objects.list("")]) == sorted(r.object_key for r in every)
