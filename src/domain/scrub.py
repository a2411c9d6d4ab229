"""Scrubbing: re-read stored objects under a bandwidth budget, least recently verified first, and record
what was found. A mismatch or a missing object is logged, written to the event log, counted and marked;
the backup is never removed by it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from domain.errors import ObjectMissing
from domain.maintenance import VerificationLedger
from domain.model import Backup
from domain.ports import Clock, ObjectStore

log = logging.getLogger(__name__)

OK, MISMATCH, MISSING = "ok", "mismatch", "missing"


@dataclass(frozen=True, slots=True)
class Finding:
    backup: Backup
    result: str


@dataclass(slots=True)
class ScrubPass:
    verified: int = 0
    bytes_read: int = 0
    failures: list[Finding] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.verified > 0

    def __str__(self) -> str:
        return f"verified {self.verified} backups ({self.bytes_read} bytes), {len(self.failures)} failed"


Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Scrubber:
    """One pass verifies what is due, at most `rate` bytes a second, for at most `budget` of wall time."""

    ledger: VerificationLedger
    objects: ObjectStore
    clock: Clock
    every: timedelta
    """A backup is due once this long after its last verification (0: scrubbing is off)."""
    rate: int
    """Bytes a second, at most."""
    budget: timedelta = timedelta(seconds=50)
    on_failure: Callable[[Finding], None] = lambda _finding: None
    sleep: Sleep = asyncio.sleep
    batch: int = 100

    async def __call__(self) -> ScrubPass:
        """The scheduled pass: what is due, within the time budget."""
        done = ScrubPass()
        if not self.every:
            return done
        deadline = time.monotonic() + self.budget.total_seconds()
        while time.monotonic() < deadline:
            due = await self.ledger.due_for_verification(self.clock.now() - self.every, self.batch)
            if not due:
                break
            for backup in due:
                await self.verify(backup, done)
                if time.monotonic() >= deadline:
                    break
        return done

    async def everything(self, system_id: str | None = None) -> ScrubPass:
        """`verify [--system KEY]`: every stored backup now (of one system), whatever its last verification."""
        done = ScrubPass()
        started = self.clock.now() + timedelta(microseconds=1)
        seen: set[str] = set()
        while fresh := [
            b for b in await self.ledger.due_for_verification(started, self.batch, system_id) if b.id not in seen
        ]:
            for backup in fresh:
                seen.add(backup.id)
                await self.verify(backup, done)
        return done

    async def verify(self, backup: Backup, done: ScrubPass) -> str:
        """Re-read one object at most `rate` bytes a second; record and report what was found."""
        result = await self._read(backup, done)
        await self.ledger.record_verification(backup, result, self.clock.now())
        done.verified += 1
        if result != OK:
            finding = Finding(backup, result)
            done.failures.append(finding)
            log.warning("scrub: backup %s (%s) is %s", backup.id, backup.object_key, result)
            self.on_failure(finding)
        return result

    async def _read(self, backup: Backup, done: ScrubPass) -> str:
        hasher, size = hashlib.sha256(), 0
        started = time.monotonic()
        try:
            read = await self.objects.get(backup.object_key)
            async for chunk in read.chunks:
                hasher.update(chunk)
                size += len(chunk)
                done.bytes_read += len(chunk)
                ahead = size / self.rate - (time.monotonic() - started)
                if ahead > 0:
                    await self.sleep(ahead)
        except ObjectMissing:
            return MISSING
        return OK if size == backup.size and hasher.hexdigest() == backup.sha256 else MISMATCH
