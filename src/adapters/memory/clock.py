"""Time and ids: the real ones, and controllable ones for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import uuid6


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


class Uuid7Factory:
    """UUIDv7 ids; monotonic within this process."""

    def new_id(self) -> str:
        return str(uuid6.uuid7())
