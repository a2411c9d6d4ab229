"""Streaming HTTP/1.1 clients on raw sockets: cheap enough that the server, not the client, is measured."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from bench.body import pieces, unique_prefix

HOST = "127.0.0.1"
UPLOAD_PATH = "/api/systems/backups"


@dataclass(frozen=True, slots=True)
class Credentials:
    key: str
    secret: str

    def authorization(self) -> str:
        return "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    seconds: float
    data: dict[str, Any]


def connect(port: int, timeout: float) -> socket.socket:
    sock = socket.create_connection((HOST, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def upload_head(port: int, who: Credentials, size: int) -> bytes:
    return (
        f"POST {UPLOAD_PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: {who.authorization()}\r\n"
        f"Content-Type: application/octet-stream\r\nX-Filename: bench.bin.gpg\r\nContent-Length: {size}\r\n\r\n"
    ).encode()


def read_answer(sock: socket.socket, buffer: bytearray) -> tuple[int, bytes]:
    """One response off a keep-alive connection (Content-Length framed, as the service answers)."""
    while b"\r\n\r\n" not in buffer:
        received = sock.recv(65536)
        if not received:
            raise ConnectionError("server closed the connection")
        buffer += received
    head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
    del buffer[: len(head) + 4]
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    while len(buffer) < length:
        received = sock.recv(65536)
        if not received:
            raise ConnectionError("server closed the connection")
        buffer += received
    body = bytes(buffer[:length])
    del buffer[:length]
    return status, body


def upload(
    port: int, who: Credentials, block: bytes, size: int, timeout: float = 120.0, prefix: bytes | None = None
) -> Answer:
    """Stream `size` bytes (`prefix`, then views of one reused block, never the whole body) and wait for
    the answer. The `prefix` (by default 16 fresh random bytes opening with an OpenPGP packet byte) makes
    each body unique, so the service never takes one for a retry of another (`200 backup already stored`)."""
    if prefix is None:
        prefix = unique_prefix()
    with connect(port, timeout) as sock:
        started = time.perf_counter()
        sock.sendall(upload_head(port, who, size) + prefix)
        try:
            for piece in pieces(block, size - len(prefix)):
                sock.sendall(piece)
        except OSError:
            pass  # the server answered early (an error); read what it said
        status, body = read_answer(sock, bytearray())
        seconds = time.perf_counter() - started
    return Answer(status, seconds, json.loads(body) if body else {})


@dataclass(slots=True)
class Load:
    ok: int = 0
    failed: int = 0


def small_uploads(port: int, systems: list[Credentials], body: bytes, connections: int, seconds: float) -> float:
    """Uploads per second of `body` over keep-alive connections, round robin over `systems`.
    Runs `seconds` (and at most 200 000 uploads); a failure beyond 1 % raises."""
    load = Load()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    heads = [upload_head(port, who, len(body)) for who in systems]
    tail = body[len(unique_prefix()) :]

    def worker(index: int) -> None:
        buffer = bytearray()
        with connect(port, 30.0) as sock:
            turn = index
            while time.monotonic() < deadline and load.ok + load.failed < 200_000:
                # A fresh prefix per request: an equal body would be a duplicate (200), not a new backup.
                sock.sendall(heads[turn % len(heads)] + unique_prefix() + tail)
                status, _ = read_answer(sock, buffer)
                turn += connections
                with lock:
                    if status == 201:
                        load.ok += 1
                    else:
                        load.failed += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(index,)) for index in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if load.failed > load.ok // 100:
        raise RuntimeError(f"{load.failed} of {load.ok + load.failed} small uploads failed")
    return load.ok / elapsed


def probe_health(port: int, ready: Any, stop: Any, latencies: Any, interval: float = 0.005) -> None:
    """Run in its own process: sets `ready` once connected, then GETs /api/health on a keep-alive
    connection every `interval` seconds until `stop` is set;
    puts the list of (monotonic start, latency in seconds) pairs on the `latencies` queue."""
    seen: list[tuple[float, float]] = []
    request = f"GET /api/health HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()
    buffer = bytearray()
    with connect(port, 30.0) as sock:
        ready.set()
        deadline = time.monotonic() + 600
        while not stop.is_set() and time.monotonic() < deadline:
            at = time.monotonic()
            started = time.perf_counter()
            sock.sendall(request)
            status, _ = read_answer(sock, buffer)
            if status == 200:
                seen.append((at, time.perf_counter() - started))
            time.sleep(interval)
    latencies.put(seen)
