"""A real local webhook receiver for the tests: an HTTP server on 127.0.0.1 that records every request and
answers by path: `/ok` 200, `/fail/N` 500 for the first N requests then 200, `/redirect` 302 to `/ok`,
`/hang` holds the request 15 s, `/reset` closes the connection without an answer."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 20) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(found := self.at(path)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} of {count} requests at {path}: {self.received}")
            time.sleep(0.05)
        return found


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            path = self.path
            with receiver.lock:
                receiver.received.append(Received(path, {k.lower(): v for k, v in self.headers.items()}, body))
                seen = receiver.counts[path] = receiver.counts.get(path, 0) + 1
            if path == "/hang":
                time.sleep(15)
                self._answer(200)
            elif path == "/reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.connection.close()
            elif path == "/redirect":
                self._answer(302, {"Location": receiver.url + "/ok"})
            elif path.startswith("/fail/"):
                self._answer(500 if seen <= int(path.rsplit("/", 1)[1]) else 200)
            else:
                self._answer(200)

        def _answer(self, status: int, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
