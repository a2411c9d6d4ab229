"""The schedule evaluator: notices each system crossing into `down` or `failing`, or back to `up`, and
writes the alert to the event log (the notifier's outbox) with the state it announced, in one step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from domain.events import Actor, EventType, NewEvent
from domain.health import Schedule, SystemFacts, SystemState, state_of
from domain.ports import Clock, SystemHealth

_ANNOUNCED = {SystemState.DOWN, SystemState.FAILING, SystemState.UP}
_EVENT = {SystemState.DOWN: EventType.SYSTEM_DOWN, SystemState.FAILING: EventType.SYSTEM_FAILING}


@dataclass(frozen=True, slots=True)
class Evaluated:
    announced: int

    def __bool__(self) -> bool:
        return self.announced > 0

    def __str__(self) -> str:
        return f"{self.announced} state change(s) announced"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleEvaluator:
    """One pass over the fleet (one read). `late`, `new` and `paused` are not announced and leave the last
    announcement standing, so a paused system that was down and stays down is not announced twice."""

    health: SystemHealth
    clock: Clock
    schedule: Schedule

    async def __call__(self) -> Evaluated:
        now = self.clock.now()
        changes: list[tuple[str, str]] = []
        events: list[NewEvent] = []
        for facts in await self.health.facts():
            state = state_of(facts, facts.schedule(self.schedule), now)
            if state not in _ANNOUNCED or state.value == facts.notified:
                continue
            changes.append((facts.identity.system_id, state.value))
            kind = _EVENT.get(state)
            if kind is None and facts.notified in {SystemState.DOWN.value, SystemState.FAILING.value}:
                kind = EventType.SYSTEM_RECOVERED
            if kind is not None:
                events.append(_alert(kind, facts, state, now))
        if changes:
            await self.health.announce(changes, events)
        return Evaluated(len(events))


def _alert(kind: EventType, facts: SystemFacts, state: SystemState, now: datetime) -> NewEvent:
    last = facts.last_backup_at
    detail: dict[str, str | int | bool | None] = {
        "state": state.value,
        "last_backup_at": None if last is None else last.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    error = facts.last_error
    if state is SystemState.FAILING and error is not None:
        detail |= {"status": error.status, "error_key": error.key, "error": error.message}
    who = facts.identity
    return NewEvent(at=now, type=kind, org_id=who.org_id, system_key=who.system_key, actor=Actor.SERVICE, detail=detail)
