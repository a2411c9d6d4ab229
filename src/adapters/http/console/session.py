"""Console sessions: a signed cookie that expires, and the CSRF tokens bound to it.

The cookie is signed, so any replica checks a session another one issued. The signing key is derived
from BACKUP_ADMIN_TOKEN: changing the token signs every operator out. A session lasts while it is used
(each page renews it for `idle` more) and never past `absolute` after sign-in. Signing out clears the
cookie in the browser and records the session's id as signed out (`SignOuts`, in the rate limiter's
storage: on Redis every replica sees it), so a copy of the cookie taken before then no longer works.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.ports import Denied, RateLimiter

SESSION_COOKIE = "backup_console"
SIGN_IN_COOKIE = "backup_console_sign_in"
_VERSION = "v1"


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long a console session lives: `idle` since its last page, `absolute` since sign-in."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=8)


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in operator: `sid` names the session, CSRF tokens are derived from it."""

    sid: str
    started: int
    expires: int
    """Unix seconds."""


@dataclass(frozen=True, slots=True)
class Sessions:
    """Issues, renews and checks sessions and their CSRF tokens for one admin token."""

    admin_token: str
    policy: SessionPolicy

    def matches_admin_token(self, given: str) -> bool:
        """Constant time in the token's content, whatever its characters."""
        return hmac.compare_digest(given.encode(), self.admin_token.encode())

    def start(self, now: datetime) -> Session:
        started = int(now.timestamp())
        return self._renewed(Session(secrets.token_urlsafe(18), started, started), now)

    def renew(self, session: Session, now: datetime) -> Session:
        return self._renewed(session, now)

    def _renewed(self, session: Session, now: datetime) -> Session:
        idle_end = int((now + self.policy.idle).timestamp())
        absolute_end = session.started + int(self.policy.absolute.total_seconds())
        return Session(session.sid, session.started, min(idle_end, absolute_end))

    def encode(self, session: Session) -> str:
        payload = f"{_VERSION}.{session.started}.{session.expires}.{session.sid}"
        return f"{payload}.{self._sign('session', payload)}"

    def decode(self, cookie: str | None, now: datetime) -> Session | None:
        """The session the cookie carries, or None when it is absent, forged or expired."""
        if not cookie:
            return None
        payload, _, signature = cookie.rpartition(".")
        parts = payload.split(".")
        if len(parts) != 4 or parts[0] != _VERSION or not parts[1].isdigit() or not parts[2].isdigit():
            return None
        if not hmac.compare_digest(signature.encode(), self._sign("session", payload).encode()):
            return None
        session = Session(sid=parts[3], started=int(parts[1]), expires=int(parts[2]))
        return session if now.timestamp() < session.expires else None

    def lifetime(self, session: Session, now: datetime) -> int:
        """Seconds left, for the cookie's Max-Age."""
        return max(0, session.expires - int(now.timestamp()))

    def csrf_token(self, session: Session) -> str:
        return self._sign("csrf", session.sid)

    def sign_in_token(self, nonce: str) -> str:
        """The sign-in form's CSRF token, bound to the nonce in its own short-lived cookie."""
        return self._sign("sign-in", nonce)

    @staticmethod
    def check(expected: str, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(expected.encode(), given.encode())

    def _sign(self, purpose: str, message: str) -> str:
        key = hmac.new(self.admin_token.encode(), f"backup-collect console {purpose}".encode(), hashlib.sha256)
        mac = hmac.new(key.digest(), message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class SignOuts:
    """Session ids signed out before they expire. `limiter` allows one hit per id in a window as long as
    a session's longest life: signing out spends it, and a spent id is a signed-out session."""

    limiter: RateLimiter

    async def sign_out(self, session: Session) -> None:
        await self.limiter.acquire(session.sid)

    async def signed_out(self, session: Session) -> bool:
        return isinstance(await self.limiter.check(session.sid), Denied)


def new_nonce() -> str:
    return secrets.token_urlsafe(18)
