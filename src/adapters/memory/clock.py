"""A clock for tests: time moves only when told to."""

from __future__ import annotations

from datetime import datetime, timedelta


class FrozenClock:
    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
