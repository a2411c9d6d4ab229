"""In-memory CheckpointStore, in the tables the other in-memory adapters share."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.memory.tables import Tables
from domain.ports import StoredCheckpoint


class InMemoryCheckpointStore:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def latest(self) -> StoredCheckpoint | None:
        return self.tables.checkpoints[-1] if self.tables.checkpoints else None

    async def all(self) -> list[StoredCheckpoint]:
        return list(self.tables.checkpoints)

    async def add(self, checkpoint: StoredCheckpoint, hashes: Sequence[bytes]) -> bool:
        if any(c.tree_size == checkpoint.tree_size for c in self.tables.checkpoints):
            return False
        self.tables.checkpoints.append(checkpoint)
        self.tables.checkpoints.sort(key=lambda c: c.tree_size)
        first = checkpoint.tree_size - len(hashes)
        del self.tables.leaf_hashes[first:]
        self.tables.leaf_hashes.extend(hashes)
        return True

    async def leaf_hashes(self, size: int) -> list[bytes]:
        return self.tables.leaf_hashes[:size]
