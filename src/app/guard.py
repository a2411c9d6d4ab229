"""Bounds on what any client can hold before it authenticates, enforced where the bytes arrive.

uvicorn with httptools bounds neither the size nor the time of a request's head, and h11 (which bounds
the size) streams bodies far slower. So the guard is a subclass of uvicorn's httptools protocol: it
counts the bytes and the time until a head is complete, and once it is, costs one attribute test per
chunk of body — the upload stream keeps httptools' speed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
from dataclasses import dataclass
from typing import Any, ClassVar

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from adapters.http.answers import RETRY_AFTER
from adapters.http.health import HEALTH_PATH as HEALTH

log = logging.getLogger(__name__)
# The request line and headers together, and the time they may take from the connection's first byte
# (measured from the moment it is accepted, which is never later).
HEAD_LIMIT_BYTES = 16 * 1024
HEAD_LIMIT_SECONDS = 10.0
# A connection past the cap is only served if it turns out to be a health probe; it gets this long.
OVER_CAP_HEAD_SECONDS = 2.0
HEALTH_PATH = HEALTH.encode()
# File descriptors the process needs besides client connections (database, store, logs, listeners).
RESERVED_FDS = 64


@dataclass(frozen=True, slots=True)
class Bounds:
    max_connections: int
    """Past this many open connections, only health probes are served; the others get 503."""
    max_open: int = 1 << 20
    """Never this many at once (the open-files limit, less what the process needs besides): each
    connection past it closes the oldest one still waiting for its head, so that a file descriptor
    is always free for the next (a health probe sends its head at once; a flood's idle sockets do not)."""
    head_bytes: int = HEAD_LIMIT_BYTES
    head_seconds: float = HEAD_LIMIT_SECONDS
    over_cap_head_seconds: float = OVER_CAP_HEAD_SECONDS


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing; `send_400_response` answers `status`."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a byte budget and a deadline on every request's head, a cap
    on open connections (health probes excepted), and malformed requests answered in the envelope."""

    BOUNDS: ClassVar[Bounds] = Bounds(max_connections=1000)
    # This server's connections still waiting for a complete head, oldest first.
    WAITING: ClassVar[dict[GuardedHttpToolsProtocol, None]] = {}

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) >= self.BOUNDS.max_open and self.WAITING:
            oldest = next(iter(self.WAITING))
            del self.WAITING[oldest]
            oldest.transport.close()
        self.WAITING[self] = None
        self._refusal = 400
        self._over_cap = len(self.connections) > self.BOUNDS.max_connections
        self._in_head = True
        self._head_bytes = 0
        seconds = self.BOUNDS.over_cap_head_seconds if self._over_cap else self.BOUNDS.head_seconds
        self._head_timer: asyncio.TimerHandle | None = self.loop.call_later(seconds, self._head_too_slow)

    def _head_complete(self) -> None:
        self.WAITING.pop(self, None)
        self._in_head = False
        self._head_bytes = 0
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_complete()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Only while a head is incomplete after this chunk (a chunk that completes it is measured
        # exactly in on_headers_complete); refuse before httptools buffers any more of it.
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_bytes > self.BOUNDS.head_bytes and not self.transport.is_closing():
                self._refusal = 431
                self.send_400_response("request line and headers too large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self.WAITING[self] = None
        if self._head_timer is None:  # a later request on a kept-alive connection: from its first byte
            self._head_timer = self.loop.call_later(self.BOUNDS.head_seconds, self._head_too_slow)

    def on_headers_complete(self) -> None:
        self._head_complete()
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.BOUNDS.head_bytes:
            self._refusal = 431
            raise _Refused
        if self._over_cap and httptools.parse_url(self.url).path != HEALTH_PATH:
            self._refusal = 503
            raise _Refused
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        """Every refusal at the protocol level, in the envelope (uvicorn's own is plain text)."""
        status = self._refusal
        message = {431: "request header fields too large", 503: "too many connections"}.get(status, msg)
        data: dict[str, Any] | None = {"retry_after_seconds": RETRY_AFTER} if status == 503 else None
        body = json.dumps({"code": status, "message": message, "data": data}).encode()
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        if status == 503:
            head.append(b"retry-after: %d\r\n" % RETRY_AFTER)
        head += [b"content-type: application/json\r\ncontent-length: ", str(len(body)).encode(), b"\r\n"]
        head.append(b"connection: close\r\n\r\n")
        self._head_complete()
        self.transport.write(b"".join(head) + body)
        self.transport.close()


def raise_nofile_limit() -> int:
    """Raise the soft limit on open files to the hard limit; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-files limit from %d to %d: %s", soft, hard, exc)
        else:
            soft = hard
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def bounds_for(wanted: int, nofile: int) -> Bounds:
    """The cap in force: what was asked for, kept below the open-files limit with room to spare
    for health probes past the cap."""
    max_open = max(2, nofile - RESERVED_FDS)
    room = max(1, max_open - max_open // 8)
    if wanted > room:
        log.warning(
            "BACKUP_MAX_CONNECTIONS=%d does not fit the open-files limit of %d: capping connections at %d",
            wanted,
            nofile,
            room,
        )
    return Bounds(max_connections=min(wanted, room), max_open=max_open)


def guarded_protocol(bounds: Bounds) -> type[GuardedHttpToolsProtocol]:
    """The protocol class uvicorn instantiates per connection, carrying these bounds."""
    return type("BoundedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"BOUNDS": bounds, "WAITING": {}})


def server_config(app: Any, host: str, port: int, max_connections: int, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration with the guard in place; `options` pass through to uvicorn."""
    bounds = bounds_for(max_connections, raise_nofile_limit())
    return uvicorn.Config(app, host=host, port=port, http=guarded_protocol(bounds), **options)
