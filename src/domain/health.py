"""The state rule: how a system stands against its schedule, decided in one place for every surface.

The catalog reads the facts (`SystemFacts`, one query for one system, one organization or the fleet);
`state_of` turns them into a `SystemState` when asked, so an upload's outcome shows at once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.model import SystemIdentity


class SystemState(enum.StrEnum):
    """SPEC's states, in the order their rules are tried: the first that matches wins."""

    PAUSED = "paused"
    FAILING = "failing"
    DOWN = "down"
    LATE = "late"
    NEW = "new"
    UP = "up"


# The statuses of a refusal the appliance's side caused: they make a system `failing` (429 and 503 do not).
REFUSAL_STATUSES = frozenset({400, 413, 422})


@dataclass(frozen=True, slots=True)
class Schedule:
    """How often a system must store a backup (`every`) and the slack after that before it is `down`."""

    every: timedelta
    grace: timedelta

    def __post_init__(self) -> None:
        if self.every <= timedelta(0):
            raise ValueError("the expected interval must be longer than 0")
        if self.grace < timedelta(0):
            raise ValueError("the grace must not be negative")


@dataclass(frozen=True, slots=True)
class ScheduleOverride:
    """An org's or a system's own schedule; a None field follows the level above."""

    every: timedelta | None = None
    grace: timedelta | None = None

    def over(self, base: Schedule) -> Schedule:
        return Schedule(every=self.every or base.every, grace=base.grace if self.grace is None else self.grace)


@dataclass(frozen=True, slots=True)
class LastError:
    """The newest refusal of an authenticated upload: HTTP status, the error's key, its message, when."""

    status: int
    key: str
    message: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemFacts:
    """What the state rule needs of one system, read in one query with its stored backups' totals."""

    identity: SystemIdentity
    suspended: bool
    created_at: datetime
    backups: int
    total_size: int
    last_backup_at: datetime | None
    last_error: LastError | None
    own: ScheduleOverride
    org: ScheduleOverride
    notified: str | None = None
    """The state the schedule evaluator last announced (`down`, `failing`, `up`), None before any."""

    def schedule(self, default: Schedule) -> Schedule:
        """The effective schedule: the system's own fields, else the org's, else the default."""
        return self.own.over(self.org.over(default))

    @property
    def last_attempt_at(self) -> datetime | None:
        """The newest authenticated attempt we know of: the newest stored backup or the newest refusal."""
        times = [self.last_backup_at, None if self.last_error is None else self.last_error.at]
        return max((t for t in times if t is not None), default=None)

    @property
    def refused_since_stored(self) -> bool:
        """The newest attempt since the last stored backup was refused."""
        error = self.last_error
        return error is not None and (self.last_backup_at is None or error.at > self.last_backup_at)


def state_of(facts: SystemFacts, schedule: Schedule, now: datetime) -> SystemState:
    """SPEC's rule, first match wins: paused, failing, down, late, new, up."""
    if facts.suspended:
        return SystemState.PAUSED
    if facts.refused_since_stored:
        return SystemState.FAILING
    since = facts.last_backup_at or facts.created_at
    if now - since > schedule.every + schedule.grace:
        return SystemState.DOWN
    if facts.last_backup_at is None:
        return SystemState.NEW
    if now - since > schedule.every:
        return SystemState.LATE
    return SystemState.UP
