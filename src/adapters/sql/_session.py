"""Shared plumbing of the repositories: one session factory from an engine or a sessionmaker."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


def session_factory(source: AsyncEngine | async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """A sessionmaker whose objects stay readable after commit (we convert rows to values after it).

    Args:
        source: An engine, or a sessionmaker configured by the caller and used as is.
    """
    if isinstance(source, AsyncEngine):
        return async_sessionmaker(source, expire_on_commit=False)
    return source


def engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine a sessionmaker is bound to, for the Core statements of the hot path (no ORM session)."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        raise TypeError("the sessionmaker must be bound to an AsyncEngine")
    return bind
