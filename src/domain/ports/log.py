"""Ports: the event log and its signed checkpoints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.events import Event, EventQuery


class EventLog(Protocol):
    """The append-only event log, for readers. Entries are appended only by the adapters that make the
    changes (catalog, directory), in the changes' own transactions; readers keep their own cursor."""

    async def events_after(self, seq: int, limit: int) -> list[Event]:
        """Up to `limit` entries with a seq above `seq` (-1: from the first), in seq order. An entry
        becomes visible only with its transaction, and seqs are given in commit order, so a reader that
        saw seq N never later finds an entry below N it had not seen."""
        ...

    async def search(self, query: EventQuery) -> list[Event]:
        """The entries `query` matches, in seq order (or newest first), at most `query.limit`."""
        ...

    async def leaves(self, after: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to `limit` stored entries with a seq above `after`, in seq order, as (seq, canonical leaf
        bytes) computed from the stored columns as they are (`domain.events.leaf_bytes`): what the
        checkpointer hashes and `log verify` re-hashes, whatever anyone wrote there."""
        ...


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A signed checkpoint with what the checkpointer needs to go on from it: the tree's right edge."""

    tree_size: int
    root: bytes
    frontier: tuple[bytes, ...]
    note: str
    at: datetime


class CheckpointStore(Protocol):
    """The log's signed checkpoints and the leaf hashes they cover (written by the checkpointer only)."""

    async def latest(self) -> StoredCheckpoint | None: ...

    async def all(self) -> list[StoredCheckpoint]:
        """Every checkpoint, smallest tree first."""
        ...

    async def add(self, checkpoint: StoredCheckpoint, hashes: Sequence[bytes]) -> bool:
        """Store `checkpoint` and the leaf hashes of the entries it adds (seqs from the previous tree size
        on), in one transaction. False (nothing stored) when a checkpoint of this size exists already: a
        racing checkpointer got there first."""
        ...

    async def leaf_hashes(self, size: int) -> list[bytes]:
        """The stored leaf hashes of seqs 0 to `size` - 1 (fewer when fewer are stored)."""
        ...
