"""In-memory EventLog: reads the entries the in-memory catalog and directory append to their tables."""

from __future__ import annotations

from adapters.memory.tables import Tables
from domain.events import Event, EventQuery, encode_detail, format_at, leaf_bytes


class InMemoryEventLog:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def events_after(self, seq: int, limit: int) -> list[Event]:
        return self.tables.events[max(seq + 1, 0) :][:limit]

    async def search(self, query: EventQuery) -> list[Event]:
        found = [event for event in self.tables.events if query.matches(event)]
        return found[::-1][: query.limit] if query.newest_first else found[: query.limit]

    async def leaves(self, after: int, limit: int) -> list[tuple[int, bytes]]:
        return [(event.seq, _leaf(event)) for event in await self.events_after(after, limit)]


def _leaf(event: Event) -> bytes:
    """The canonical bytes of an entry held as values: its fields in their stored text forms (the SQL log
    reads those forms straight from its columns)."""
    return leaf_bytes(
        event.seq,
        format_at(event.at),
        event.type.value,
        event.org_id,
        event.system_key,
        event.backup_id,
        event.actor.value,
        encode_detail(event.detail),
    )
