"""Operator use case: give an organization or a system its own schedule, or hand it back to the default."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.durations import parse_duration
from domain.entries import system_event
from domain.errors import InvalidInput, NotFound
from domain.events import EventType, Via
from domain.health import Schedule, ScheduleOverride
from domain.ports import Clock, SystemDirectory, SystemHealth


@dataclass(frozen=True, slots=True, kw_only=True)
class OrgSchedule:
    """`org set-schedule`: the organization's effective schedule, in whole seconds."""

    id: str
    expected_every: int
    grace: int


def schedule_override(every: str | int | timedelta | None, grace: str | int | timedelta | None) -> ScheduleOverride:
    """Durations as operators write them (`1h`, `30m`) or whole seconds; None follows the level above.

    Raises:
        InvalidInput: named `expected_every` or `grace`, for anything else (an interval of 0 included).
    """
    override = ScheduleOverride(every=_span("expected_every", every), grace=_span("grace", grace))
    if override.every is not None and override.every <= timedelta(0):
        raise InvalidInput("expected_every", "must be longer than 0", str(every))
    return override


def _span(key: str, value: str | int | timedelta | None) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise InvalidInput(key, "a duration such as 90m, 36h, 2d, or whole seconds", str(value))
    if isinstance(value, int):
        if value < 0 or value > 100 * 366 * 86400:
            raise InvalidInput(key, "whole seconds from 0 to 100 years", str(value))
        return timedelta(seconds=value)
    try:
        return parse_duration(value)
    except ValueError as error:
        raise InvalidInput(key, str(error), value) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedules:
    """Sets the schedules the state rule reads; `ScheduleOverride()` (both None) is `default`."""

    directory: SystemDirectory
    health: SystemHealth
    default: Schedule
    clock: Clock

    async def set_system(self, system_key: str, schedule: ScheduleOverride, via: Via = Via.CLI) -> None:
        """Set it, recording `system.schedule_changed` (detail: the own fields in seconds, null when
        following the org, and `via`). Raises NotFound for an unknown key."""
        record = await self.directory.get_system(system_key)
        if record is None:
            raise NotFound(f"system {system_key} not found")
        detail = {"expected_every": _seconds(schedule.every), "grace": _seconds(schedule.grace), "via": via.value}
        event = system_event(EventType.SYSTEM_SCHEDULE_CHANGED, record.identity, self.clock.now(), detail=detail)
        await self.health.set_system_schedule(system_key, schedule, event)

    async def set_org(self, org_id: str, schedule: ScheduleOverride) -> OrgSchedule:
        """Raises NotFound for an unknown id."""
        if await self.directory.get_org(org_id) is None:
            raise NotFound(f"organization {org_id} not found")
        await self.health.set_org_schedule(org_id, schedule)
        effective = schedule.over(self.default)
        return OrgSchedule(
            id=org_id, expected_every=int(effective.every.total_seconds()), grace=int(effective.grace.total_seconds())
        )


def _seconds(span: timedelta | None) -> int | None:
    return None if span is None else int(span.total_seconds())
