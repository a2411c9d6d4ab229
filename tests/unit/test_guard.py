"""The guard (`app/guard.py`) on a fake transport: head size and time, the connection cap with health
probes past it, the oldest idle connection closed near the open-files limit, and the cap kept below that
limit. The same rules against a real `serve` process: tests/integration/test_bounds_e2e.py."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from app.guard import HEAD_LIMIT_BYTES, RESERVED_FDS, Bounds, GuardedHttpToolsProtocol, bounds_for, guarded_protocol

QUICK = 0.05


class FakeTransport(asyncio.Transport):
    """What uvicorn's protocol writes, and whether it closed the connection (which, as on a real loop,
    tells the protocol the connection is lost on the next turn)."""

    def __init__(self, protocol: GuardedHttpToolsProtocol) -> None:
        super().__init__()
        self.protocol = protocol
        self.written = b""
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            asyncio.get_running_loop().call_soon(self._lost)

    def _lost(self) -> None:
        if self.protocol in self.protocol.connections:  # not lost already
            self.protocol.connection_lost(None)

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def ok_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Stands in for the service: every request it sees answers 200 `ok`."""
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


class Server:
    """One guarded server's protocol class and state; `connect` opens a connection to it."""

    def __init__(self, bounds: Bounds) -> None:
        self.protocol = guarded_protocol(bounds)
        self.config = uvicorn.Config(ok_app, http=self.protocol, lifespan="off", log_level="warning")
        self.config.load()
        self.state = ServerState()

    def connect(self) -> tuple[GuardedHttpToolsProtocol, FakeTransport]:
        protocol = self.protocol(config=self.config, server_state=self.state, app_state={})
        transport = FakeTransport(protocol)
        protocol.connection_made(transport)
        return protocol, transport


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    made = Server(Bounds(max_connections=2, head_seconds=QUICK, over_cap_head_seconds=QUICK))
    yield made
    for connection in list(made.state.connections):
        connection.connection_lost(None)


def envelope(written: bytes) -> tuple[bytes, dict[str, Any]]:
    head, _, body = written.partition(b"\r\n\r\n")
    return head, json.loads(body)


def request(path: str = "/api/systems/backups", extra: bytes = b"") -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n" + extra + b"\r\n"


async def answered(transport: FakeTransport) -> bytes:
    for _ in range(1000):  # up to 5 s on a busy machine
        if transport.written:
            return transport.written
        await asyncio.sleep(0.005)
    raise AssertionError("no answer")


async def test_a_head_arriving_past_16_kib_is_431_in_the_envelope_and_closed(server: Server) -> None:
    protocol, transport = server.connect()
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: t\r\nX-Pad: ")
    for _ in range(HEAD_LIMIT_BYTES // 4096 + 1):
        protocol.data_received(b"a" * 4096)
    head, body = envelope(transport.written)
    assert head.startswith(b"HTTP/1.1 431 ")
    assert body == {"code": 431, "message": "request header fields too large", "data": None}
    assert b"connection: close" in head
    assert transport.closed


async def test_a_head_over_16_kib_in_one_read_is_431_too(server: Server) -> None:
    protocol, transport = server.connect()
    protocol.data_received(request(extra=b"X-Pad: " + b"a" * HEAD_LIMIT_BYTES + b"\r\n"))
    assert transport.written.startswith(b"HTTP/1.1 431 ")
    assert transport.closed


async def test_a_head_of_16_kib_less_a_little_is_served(server: Server) -> None:
    protocol, transport = server.connect()
    protocol.data_received(request(extra=b"X-Pad: " + b"a" * (HEAD_LIMIT_BYTES - 200) + b"\r\n"))
    assert (await answered(transport)).startswith(b"HTTP/1.1 200 ")


async def test_a_head_not_complete_in_time_is_closed_without_an_answer(server: Server) -> None:
    protocol, transport = server.connect()
    protocol.data_received(b"GET / HTTP/1.1\r\nHo")
    await asyncio.sleep(QUICK * 3)
    assert transport.closed
    assert transport.written == b""


async def test_a_complete_head_is_never_cut_off_by_the_head_deadline(server: Server) -> None:
    protocol, transport = server.connect()
    protocol.data_received(request())
    assert (await answered(transport)).startswith(b"HTTP/1.1 200 ")
    await asyncio.sleep(QUICK * 3)  # kept alive, idle between requests
    assert not transport.closed


async def test_past_the_connection_cap_a_request_is_503_with_retry_after_in_the_envelope(server: Server) -> None:
    for _ in range(2):
        server.connect()
    protocol, transport = server.connect()
    protocol.data_received(request())
    head, body = envelope(transport.written)
    assert head.startswith(b"HTTP/1.1 503 ")
    assert b"retry-after: 30\r\n" in head
    assert body == {"code": 503, "message": "too many connections", "data": {"retry_after_seconds": 30}}
    assert transport.closed


async def test_past_the_connection_cap_a_health_probe_is_still_served(server: Server) -> None:
    for _ in range(2):
        server.connect()
    protocol, transport = server.connect()
    protocol.data_received(request("/api/health"))
    assert (await answered(transport)).startswith(b"HTTP/1.1 200 ")


async def test_past_the_cap_a_connection_gets_the_short_head_deadline(server: Server) -> None:
    for _ in range(2):
        server.connect()
    over = Server(Bounds(max_connections=2, head_seconds=60, over_cap_head_seconds=QUICK))
    over.state = server.state
    _, transport = over.connect()
    await asyncio.sleep(QUICK * 3)
    assert transport.closed


async def test_near_the_open_files_limit_a_new_connection_closes_the_oldest_still_waiting(server: Server) -> None:
    crowded = Server(Bounds(max_connections=10, max_open=3))
    first, first_transport = crowded.connect()
    first.data_received(request())  # its head is complete: it is not waiting
    await answered(first_transport)
    _, second = crowded.connect()
    assert not second.closed
    _, third = crowded.connect()  # three open at once: the oldest still waiting goes, never `first`
    await asyncio.sleep(0)
    assert (first_transport.closed, second.closed, third.closed) == (False, True, False)
    _, fourth = crowded.connect()
    await asyncio.sleep(0)
    assert (first_transport.closed, third.closed, fourth.closed) == (False, True, False)
    for connection in list(crowded.state.connections):
        connection.connection_lost(None)


def test_the_connection_cap_is_kept_as_asked_when_it_fits_the_open_files_limit() -> None:
    assert bounds_for(1000, 4096) == Bounds(max_connections=1000, max_open=4096 - RESERVED_FDS)


def test_a_cap_that_does_not_fit_is_lowered_with_a_warning_naming_the_variable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="app.guard"):
        bounds = bounds_for(1000, 1024)
    max_open = 1024 - RESERVED_FDS
    assert bounds == Bounds(max_connections=max_open - max_open // 8, max_open=max_open)
    assert "BACKUP_MAX_CONNECTIONS=1000" in caplog.text
