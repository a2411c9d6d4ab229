"""The history use case: operators read the event log (`log show`, `GET /api/admin/log`, the console)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from domain.durations import parse_duration
from domain.errors import InvalidInput
from domain.events import Event, EventQuery, EventType
from domain.ports import Clock, EventLog

MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Page:
    """Entries in seq order; `next_after` is the cursor of the next page (None: nothing more now)."""

    events: list[Event]
    next_after: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    """Reads the log page by page, filtered by system, time and type."""

    events: EventLog
    clock: Clock

    def query(
        self,
        *,
        system_key: str | None = None,
        since: str | None = None,
        type: str | None = None,
        after: int = -1,
        limit: int = 100,
    ) -> EventQuery:
        """The filter as operators write it.

        Raises:
            InvalidInput: `since` is neither a duration (`36h`) nor an RFC 3339 date or time; `type` is not
                an event type; `limit` is outside 1…1000; `after` is below -1.
        """
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput("limit", f"must be 1 to {MAX_PAGE}", str(limit))
        if after < -1:
            raise InvalidInput("after", "must be a seq, or -1 for the first entry", str(after))
        return EventQuery(after=after, system_key=system_key, since=self._since(since), type=_type(type), limit=limit)

    async def recent(self, system_key: str, limit: int = 50) -> list[Event]:
        """A system's `limit` newest entries, newest first: its history on the console."""
        return await self.events.search(EventQuery(system_key=system_key, limit=limit, newest_first=True))

    async def page(self, query: EventQuery) -> Page:
        found = await self.events.search(query)
        return Page(found, found[-1].seq if len(found) == query.limit else None)

    def _since(self, since: str | None) -> datetime | None:
        if since is None:
            return None
        try:
            return self.clock.now() - parse_duration(since)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput("since", "not a duration (36h, 2d) nor an RFC 3339 date or time", since[:100]) from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _type(kind: str | None) -> EventType | None:
    if kind is None:
        return None
    try:
        return EventType(kind)
    except ValueError:
        known = ", ".join(t.value for t in EventType)
        raise InvalidInput("type", f"not an event type (one of {known})", kind[:100]) from None
