"""What the console needs from the composition root besides the use cases its pages name (those come by
name from the app, as the admin API's do): its sessions, its guards' state, the clock and settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.http.console.session import SessionPolicy, Sessions, SignOuts
from domain.attempts import FailedAttempts
from domain.health import Schedule
from domain.ports import Clock, RateLimiter


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleServices:
    clock: Clock
    schedule: Schedule
    """The default schedule (BACKUP_EXPECT_EVERY, BACKUP_GRACE)."""
    admin_token: str
    attempts: FailedAttempts
    """Failed sign-ins, limited per client address (shared with the admin API's bearer check)."""
    signed_out: RateLimiter
    """Where sign-outs are remembered until the session would have expired."""
    policy: SessionPolicy = field(default_factory=SessionPolicy)

    @property
    def sessions(self) -> Sessions:
        return Sessions(self.admin_token, self.policy)

    @property
    def sign_outs(self) -> SignOuts:
        return SignOuts(self.signed_out)
