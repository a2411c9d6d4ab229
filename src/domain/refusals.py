"""Remember an authenticated upload's refusal, so the system shows `failing` at once (off the success path)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from domain.errors import InvalidInput, KeyInFlight, KeyReused, TooLarge, Unavailable
from domain.health import LastError
from domain.model import SystemIdentity
from domain.ports import Clock, SystemHealth

log = logging.getLogger(__name__)


def refusal_status(error: InvalidInput) -> int | None:
    """The status of a refusal the appliance's side caused (SPEC: 400, 413, 422), else None: a key in
    flight (409) is a retry racing itself, not a fault of the backup."""
    if isinstance(error, KeyInFlight):
        return None
    if isinstance(error, TooLarge):
        return 413
    return 422 if isinstance(error, KeyReused) else 400


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusals:
    """Called by ingest with each refusal it raises; never raises itself (the answer stays the refusal)."""

    health: SystemHealth
    clock: Clock

    async def __call__(self, who: SystemIdentity, error: InvalidInput) -> None:
        status = refusal_status(error)
        if status is None:
            return
        last = LastError(status=status, key=error.key, message=error.message, at=self.clock.now())
        try:
            await self.health.record_refusal(who.system_id, last)
        except Unavailable as exc:
            log.warning("refusal of %s not recorded: %s", who.system_key, exc)
