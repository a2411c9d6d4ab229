"""Ports: the time and the ids the domain is given."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class IdFactory(Protocol):
    def new_id(self) -> str:
        """A new UUIDv7 in canonical lower-case text; ids from one factory increase."""
        ...
