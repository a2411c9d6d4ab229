"""The CheckpointStore port on SQLAlchemy: `log_checkpoints` and `log_leaf_hashes`."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sql._session import engine_of, session_factory
from adapters.sql.engine import guarded
from adapters.sql.models import CHECKPOINTS, LEAF_HASHES
from domain.ports import StoredCheckpoint


class SqlCheckpointStore:
    """Raises CatalogUnavailable when the database cannot be reached."""

    def __init__(self, source: AsyncEngine | async_sessionmaker[AsyncSession]) -> None:
        self._engine = engine_of(session_factory(source))

    async def latest(self) -> StoredCheckpoint | None:
        statement = select(CHECKPOINTS).order_by(CHECKPOINTS.c.tree_size.desc()).limit(1)
        async with guarded(), self._engine.connect() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else _checkpoint(row._mapping)

    async def all(self) -> list[StoredCheckpoint]:
        async with guarded(), self._engine.connect() as connection:
            rows = (await connection.execute(select(CHECKPOINTS).order_by(CHECKPOINTS.c.tree_size))).all()
        return [_checkpoint(row._mapping) for row in rows]

    async def add(self, checkpoint: StoredCheckpoint, hashes: Sequence[bytes]) -> bool:
        first = checkpoint.tree_size - len(hashes)
        values = {
            "tree_size": checkpoint.tree_size,
            "root": _b64(checkpoint.root),
            "frontier": ",".join(_b64(h) for h in checkpoint.frontier),
            "note": checkpoint.note,
            "at": checkpoint.at,
        }
        try:
            async with guarded(), self._engine.begin() as connection:
                await connection.execute(insert(CHECKPOINTS), values)
                if hashes:
                    rows = [{"seq": first + i, "hash": h} for i, h in enumerate(hashes)]
                    await connection.execute(insert(LEAF_HASHES), rows)
        except IntegrityError:
            return False
        return True

    async def leaf_hashes(self, size: int) -> list[bytes]:
        statement = select(LEAF_HASHES.c.hash).where(LEAF_HASHES.c.seq < size).order_by(LEAF_HASHES.c.seq)
        async with guarded(), self._engine.connect() as connection:
            return [bytes(h) for h in (await connection.execute(statement)).scalars()]


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _checkpoint(row: Any) -> StoredCheckpoint:
    frontier = tuple(base64.b64decode(h) for h in row["frontier"].split(",") if h)
    return StoredCheckpoint(
        tree_size=int(row["tree_size"]),
        root=base64.b64decode(row["root"]),
        frontier=frontier,
        note=row["note"],
        at=row["at"],
    )
