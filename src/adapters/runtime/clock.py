"""The real Clock and IdFactory of a running service (tests use adapters.memory.clock.FrozenClock)."""

from __future__ import annotations

from datetime import UTC, datetime

import uuid6


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Uuid7Factory:
    """UUIDv7 ids; monotonic within this process."""

    def new_id(self) -> str:
        return str(uuid6.uuid7())
