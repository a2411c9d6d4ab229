"""Remember an authenticated upload's refusal, so the system shows `failing` at once (off the success path)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from domain.errors import DomainError, InvalidInput, Unavailable
from domain.health import REFUSAL_STATUSES, LastError
from domain.model import SystemIdentity
from domain.ports import Clock, SystemHealth

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusals:
    """Called by ingest with each refusal it raises; never raises itself (the answer stays the refusal).
    `status_of` is the HTTP edge's one error table: a refusal counts when it answers 400, 413 or 422."""

    health: SystemHealth
    clock: Clock
    status_of: Callable[[DomainError], int | None]

    async def __call__(self, who: SystemIdentity, error: InvalidInput) -> None:
        status = self.status_of(error)
        if status not in REFUSAL_STATUSES:
            return
        last = LastError(status=status, key=error.key, message=error.message, at=self.clock.now())
        try:
            await self.health.record_refusal(who.system_id, last)
        except Unavailable as exc:
            log.warning("refusal of %s not recorded: %s", who.system_key, exc)
