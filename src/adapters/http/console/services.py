"""What the console needs from the composition root: the operator use cases the CLI and admin API call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from adapters.http.console.session import SessionPolicy, Sessions, SignOuts
from domain.attempts import FailedAttempts
from domain.history import History
from domain.organizations import OrgAdmin
from domain.ports import Clock, RateLimiter
from domain.registry import Registry
from domain.restore import BackupAccess
from domain.systems import SystemAdmin


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleServices:
    orgs: OrgAdmin
    systems: SystemAdmin
    registry: Registry
    access: BackupAccess
    """The operator's access (append-only mode binds appliances only), as the admin API's."""
    history: History
    """The event log: a system's history on its page."""
    clock: Clock
    stale_after: timedelta
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
