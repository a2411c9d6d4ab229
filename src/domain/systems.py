"""Operator use cases on systems: list them, show one, their states, the ones that stopped uploading."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from domain.durations import parse_duration
from domain.errors import InvalidInput, NotFound
from domain.health import LastError, Schedule, SystemFacts, SystemState, state_of
from domain.model import Limits, SystemIdentity
from domain.ports import Clock, SystemDirectory, SystemHealth


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemSummary:
    """One row of `system list`. Field names are the JSON keys of SPEC; durations in whole seconds."""

    system_key: str
    org_id: str
    suspended: bool
    backups: int
    total_size: int
    last_backup_at: datetime | None
    state: SystemState
    expected_every: int
    grace: int
    last_attempt_at: datetime | None
    last_error: LastError | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemDetail(SystemSummary):
    """`system show`: a `system list` row plus the system's caps."""

    max_count: int
    max_total_size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StaleSystem:
    """A system whose newest backup is older than asked; `last_backup_at` None if it never uploaded."""

    system_key: str
    org_id: str
    last_backup_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemStatus:
    """`GET /api/systems/status`: what the service recorded of the asking appliance."""

    state: SystemState
    last_backup_at: datetime | None
    next_expected_before: datetime
    backups: int
    total_size: int
    last_error: LastError | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemAdmin:
    """Lets an operator see systems, their state against their schedule, and which went quiet. Every
    answer comes from one `SystemHealth.facts` read and the one state rule, `domain.health.state_of`."""

    directory: SystemDirectory
    health: SystemHealth
    clock: Clock
    limits: Limits
    schedule: Schedule
    """The default schedule (BACKUP_EXPECT_EVERY, BACKUP_GRACE)."""

    async def identity(self, system_key: str) -> SystemIdentity:
        """The identity an operator acts for. Raises NotFound for an unknown key."""
        record = await self.directory.get_system(system_key)
        if record is None:
            raise NotFound(f"system {system_key} not found")
        return record.identity

    async def list_systems(self, org_id: str | None = None) -> list[SystemSummary]:
        """Every system, or those of one organization (NotFound when it does not exist)."""
        if org_id is not None and await self.directory.get_org(org_id) is None:
            raise NotFound(f"organization {org_id} not found")
        now = self.clock.now()
        return [self._summary(facts, now) for facts in await self.health.facts(org_id)]

    async def show(self, system_key: str) -> SystemDetail:
        """Raises NotFound for an unknown key."""
        summary = self._summary(await self._facts(system_key), self.clock.now())
        return SystemDetail(
            **{f.name: getattr(summary, f.name) for f in fields(summary)},
            max_count=self.limits.max_per_system,
            max_total_size=self.limits.max_size_per_system,
        )

    async def status(self, who: SystemIdentity) -> SystemStatus:
        """The appliance's own view. Raises NotFound when the system is gone."""
        facts = await self._facts(who.system_key)
        schedule = facts.schedule(self.schedule)
        return SystemStatus(
            state=state_of(facts, schedule, self.clock.now()),
            last_backup_at=facts.last_backup_at,
            next_expected_before=(facts.last_backup_at or facts.created_at) + schedule.every,
            backups=facts.backups,
            total_size=facts.total_size,
            last_error=facts.last_error,
        )

    async def states(self, org_id: str | None = None) -> dict[str, SystemState]:
        """Each system's state by key: the fleet's, or one organization's."""
        now = self.clock.now()
        return {
            f.identity.system_key: state_of(f, f.schedule(self.schedule), now) for f in await self.health.facts(org_id)
        }

    async def count_states(self) -> dict[SystemState, int]:
        """How many systems are in each state (every state present, zeros included)."""
        counts = dict.fromkeys(SystemState, 0)
        for state in (await self.states()).values():
            counts[state] += 1
        return counts

    async def stale(self, older_than: str | timedelta | None = None) -> list[StaleSystem]:
        """Without `older_than`: the `down` systems. With it (`36h`, `2d`…): systems whose newest stored
        backup was uploaded before now minus `older_than`, and systems that never uploaded. Never-uploaded
        first, then oldest first.

        Raises:
            InvalidInput: `older_than` is not a duration.
        """
        now = self.clock.now()
        found = await self.health.facts()
        if older_than is None:
            found = [f for f in found if state_of(f, f.schedule(self.schedule), now) is SystemState.DOWN]
        else:
            cutoff = now - _duration(older_than)
            found = [f for f in found if f.last_backup_at is None or f.last_backup_at < cutoff]
        rows = [
            StaleSystem(system_key=f.identity.system_key, org_id=f.identity.org_id, last_backup_at=f.last_backup_at)
            for f in found
        ]
        return sorted(rows, key=lambda s: (s.last_backup_at is not None, s.last_backup_at or now, s.system_key))

    async def _facts(self, system_key: str) -> SystemFacts:
        found = await self.health.facts(system_key=system_key)
        if not found:
            raise NotFound(f"system {system_key} not found")
        return found[0]

    def _summary(self, facts: SystemFacts, now: datetime) -> SystemSummary:
        schedule = facts.schedule(self.schedule)
        return SystemSummary(
            system_key=facts.identity.system_key,
            org_id=facts.identity.org_id,
            suspended=facts.suspended,
            backups=facts.backups,
            total_size=facts.total_size,
            last_backup_at=facts.last_backup_at,
            state=state_of(facts, schedule, now),
            expected_every=int(schedule.every.total_seconds()),
            grace=int(schedule.grace.total_seconds()),
            last_attempt_at=facts.last_attempt_at,
            last_error=facts.last_error,
        )


def _duration(value: str | timedelta) -> timedelta:
    if isinstance(value, timedelta):
        return value
    try:
        return parse_duration(value)
    except ValueError as error:
        raise InvalidInput("older_than", str(error), value) from None
