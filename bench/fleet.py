"""The fleet's side of `just load`: C clients uploading one body per job, as appliances do, timed.

Each upload opens its own connection (an appliance runs `curl` once a night) and sends the real request
shape: Basic auth, `X-Filename`, `Content-Length`, an OpenPGP-framed body made unique by a random prefix
(a repeated body would be answered as a retry). Answers are sorted into successes, planned 429s (the
client sent more than a window or the in-flight cap allows) and everything else, which is unexpected.
"""

from __future__ import annotations

import os
import queue
import statistics
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.body import OPENPGP_FIRST_BYTE
from bench.client import Credentials, upload

PREFIX = 32  # random bytes at the head of every body
MINUTE, HOUR = 60.0, 3600.0


@dataclass(frozen=True, slots=True)
class Job:
    who: Credentials
    size: int


@dataclass(frozen=True, slots=True)
class Windows:
    """The service's rate limits and in-flight cap, so the client can tell a planned 429."""

    per_minute: int
    per_hour: int
    in_flight: int


@dataclass(slots=True)
class History:
    """When each system sent, across the runs of one setup, and what it has in flight now."""

    sent: dict[str, list[float]] = field(default_factory=dict)
    flying: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, key: str, windows: Windows) -> bool:
        """Record a send; True when a 429 for it would be planned (over a window or the in-flight cap)."""
        now = time.monotonic()
        with self.lock:
            times = self.sent.setdefault(key, [])
            times.append(now)
            over_minute = windows.per_minute > 0 and sum(t > now - MINUTE for t in times) > windows.per_minute
            over_hour = windows.per_hour > 0 and sum(t > now - HOUR for t in times) > windows.per_hour
            crowded = self.flying[key] >= windows.in_flight
            self.flying[key] += 1
            return over_minute or over_hour or crowded

    def end(self, key: str) -> None:
        with self.lock:
            self.flying[key] -= 1


@dataclass(slots=True)
class Result:
    """One run: what was answered, how fast, and what the server processes spent."""

    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    by_size: dict[int, list[float]] = field(default_factory=dict)
    stored: int = 0
    planned_429: int = 0
    unexpected: Counter[str] = field(default_factory=Counter)
    cpu_seconds: float = 0.0
    service_cpu_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.stored / self.elapsed if self.elapsed else 0.0

    def percentile(self, share: float, size: int | None = None) -> float:
        values = sorted(self.latencies if size is None else self.by_size.get(size, []))
        if not values:
            return float("nan")
        return values[min(len(values) - 1, max(0, round(share * len(values)) - 1))]

    @property
    def cpu_per_upload(self) -> float:
        return self.cpu_seconds / self.stored if self.stored else float("nan")


def run(
    ports: Sequence[int],
    jobs: Sequence[Job],
    clients: int,
    block: bytes,
    windows: Windows,
    history: History,
    deadline: float,
) -> Result:
    """Upload every job with `clients` threads, job i to `ports[i % len(ports)]`; stops taking new jobs
    after `deadline` seconds (the rest count as unexpected `not sent`)."""
    result = Result()
    lock = threading.Lock()
    pending: queue.SimpleQueue[tuple[int, Job]] = queue.SimpleQueue()
    for index, job in enumerate(jobs):
        pending.put((index, job))
    stop_at = time.monotonic() + deadline

    def worker() -> None:
        while time.monotonic() < stop_at:
            try:
                index, job = pending.get_nowait()
            except queue.Empty:
                return
            planned = history.start(job.who.key, windows)
            prefix = bytes([OPENPGP_FIRST_BYTE]) + os.urandom(PREFIX - 1)
            try:
                answer = upload(ports[index % len(ports)], job.who, block, job.size, timeout=120.0, prefix=prefix)
            except OSError as error:
                with lock:
                    result.unexpected[type(error).__name__] += 1
                continue
            finally:
                history.end(job.who.key)
            with lock:
                if answer.status == 201:
                    result.stored += 1
                    result.latencies.append(answer.seconds)
                    result.by_size.setdefault(job.size, []).append(answer.seconds)
                elif answer.status == 429 and planned:
                    result.planned_429 += 1
                else:
                    result.unexpected[str(answer.status)] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=deadline + 180)
    result.elapsed = time.perf_counter() - started
    left = pending.qsize()
    if left:
        result.unexpected["not sent"] += left
    return result


def median_result(results: Sequence[Result]) -> Result:
    """The run whose upload rate is the median (its latencies and errors come with it)."""
    ranked = sorted(results, key=lambda r: r.rate)
    return ranked[len(ranked) // 2]


def median_rate(results: Sequence[Result]) -> float:
    return statistics.median(r.rate for r in results)
