"""Lines 1, 2 and 4: large uploads on the embedded default — speed against SHA-256, peak memory, and
eight at once while /api/health is probed."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.body import MiB, make_block, sha256_seconds, write_seconds
from bench.client import Answer, Credentials, probe_health, upload
from bench.report import Row, median, rate
from bench.server import Process


@dataclass(frozen=True, slots=True)
class LargeSizes:
    ingest: int
    peak: int
    concurrent: int
    streams: int
    runs: int


def checked(answer: Answer, size: int) -> Answer:
    if answer.status != 201 or answer.data["data"]["size"] != size:
        raise RuntimeError(f"upload of {size} bytes answered {answer.status}: {answer.data}")
    return answer


def measure_large(server: Process, systems: Sequence[Credentials], sizes: LargeSizes, data_dir: Path) -> list[Row]:
    """`systems` holds at least `sizes.streams` systems; the first one takes the single uploads.
    `data_dir` is the server's: the file-write bound is measured there."""
    block = make_block()
    checked(upload(server.port, systems[0], block, 64 * MiB), 64 * MiB)  # warm the code paths and the pool
    idle = server.memory()["VmRSS"]
    peaks = []
    for _ in range(sizes.runs):
        server.reset_peak()
        checked(upload(server.port, systems[0], block, sizes.peak), sizes.peak)
        peaks.append(server.memory()["VmHWM"] - idle)
    peak = max(peaks)

    ingests, hashes, writes = [], [], []
    for _ in range(sizes.runs):  # interleaved, so a change of the machine's load hits all three alike
        ingests.append(checked(upload(server.port, systems[0], block, sizes.ingest), sizes.ingest).seconds)
        hashes.append(sha256_seconds(block, sizes.ingest))
        writes.append(write_seconds(block, sizes.ingest, data_dir))
    ingest, hashing, writing = median(ingests), median(hashes), median(writes)

    single = median(
        [
            checked(upload(server.port, systems[0], block, sizes.concurrent), sizes.concurrent).seconds
            for _ in range(sizes.runs)
        ]
    )
    together, latencies = _concurrent(server, systems[: sizes.streams], block, sizes)
    aggregate = sizes.streams * sizes.concurrent / together
    alone = sizes.concurrent / single
    p99 = sorted(latencies)[max(0, int(len(latencies) * 0.99) - 1)] if latencies else float("inf")
    return [
        Row(
            f"1. ingest {sizes.ingest // MiB} MiB, embedded default",
            rate(sizes.ingest, ingest),
            f"sha256 1 thread {rate(sizes.ingest, hashing)}",
            f"{hashing / ingest:.2f}x",
            ">= 0.75x",
            hashing / ingest >= 0.75,
        ),
        Row(
            "1. bound: write(2) to a new file there",
            rate(sizes.ingest, writing),
            "(same bytes, page cache)",
            f"{writing / ingest:.2f}x",
            "(printed)",
            None,
        ),
        Row(
            f"2. peak RSS - idle, {sizes.peak // MiB} MiB upload",
            f"{peak / MiB:.1f} MiB",
            f"idle RSS {idle / MiB:.0f} MiB",
            "-",
            "<= 64 MiB",
            peak <= 64 * MiB,
        ),
        Row(
            f"4. {sizes.streams} x {sizes.concurrent // MiB} MiB at once, aggregate",
            rate(sizes.streams * sizes.concurrent, together),
            f"1 upload {rate(sizes.concurrent, single)}",
            f"{aggregate / alone:.2f}x",
            ">= 0.8x",
            aggregate / alone >= 0.8,
        ),
        Row(
            "4. /api/health p99 during them",
            f"{p99 * 1000:.1f} ms",
            f"{len(latencies)} probes",
            "-",
            "< 50 ms",
            p99 < 0.050,
        ),
    ]


def _concurrent(
    server: Process, systems: Sequence[Credentials], block: bytes, sizes: LargeSizes
) -> tuple[float, list[float]]:
    """Median wall time of `runs` rounds of one upload per system at once, and the health latencies
    probed (from another process) while the rounds ran."""
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    queue = context.Queue()
    prober = context.Process(target=probe_health, args=(server.port, ready, stop, queue), daemon=True)
    prober.start()
    windows: list[tuple[float, float]] = []
    walls = []
    try:
        if not ready.wait(timeout=60):
            raise RuntimeError("the health prober did not connect")
        for _ in range(sizes.runs):
            answers: list[Answer] = []
            threads = [threading.Thread(target=_one, args=(server, who, block, sizes, answers)) for who in systems]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            ended = time.monotonic()
            if len(answers) != len(systems):
                raise RuntimeError("a concurrent upload failed")
            windows.append((started, ended))
            walls.append(ended - started)
    finally:
        stop.set()
        samples: list[tuple[float, float]] = queue.get(timeout=60)
        prober.join(timeout=30)
    during = [latency for at, latency in samples if any(start <= at <= end for start, end in windows)]
    return median(walls), during


def _one(server: Process, who: Credentials, block: bytes, sizes: LargeSizes, answers: list[Answer]) -> None:
    answers.append(checked(upload(server.port, who, block, sizes.concurrent), sizes.concurrent))
