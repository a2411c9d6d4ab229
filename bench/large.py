"""Lines 1, 2 and 4: large uploads on the embedded default (durable: fsync before the answer) — speed
against the C reference receiver doing the same durable work, peak memory, and eight at once while
/api/health is probed."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.body import MiB, make_block, sha256_seconds
from bench.client import Answer, Credentials, probe_health, upload
from bench.reference import build_reference, reference_command
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


def measure_large(
    server: Process, systems: Sequence[Credentials], sizes: LargeSizes, data_dir: Path, workdir: Path
) -> list[Row]:
    """`systems` holds at least `sizes.streams` systems; the first one takes the single uploads.
    `data_dir` is the server's: the reference receiver writes beside it, on the same file system."""
    block = make_block()
    checked(upload(server.port, systems[0], block, 64 * MiB), 64 * MiB)  # warm the code paths and the pool
    idle = server.memory()["VmRSS"]
    peaks = []
    for _ in range(sizes.runs):
        server.reset_peak()
        checked(upload(server.port, systems[0], block, sizes.peak), sizes.peak)
        peaks.append(server.memory()["VmHWM"] - idle)
    peak = max(peaks)

    first = _line_one(server, systems[0], block, sizes, data_dir, workdir)
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
        *first,
        Row(
            f"2. peak RSS - idle, {sizes.peak // MiB} MiB durable upload",
            f"{peak / MiB:.1f} MiB",
            f"idle RSS {idle / MiB:.0f} MiB",
            "-",
            "<= 48 MiB",
            peak <= 48 * MiB,
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


def _line_one(
    server: Process, who: Credentials, block: bytes, sizes: LargeSizes, data_dir: Path, workdir: Path
) -> list[Row]:
    """The service against the reference receiver, both durable, alternating in one run (so a change of
    the machine's load hits both alike), with single-thread hashlib.sha256 of the same bytes as information."""
    name = f"1. ingest {sizes.ingest // MiB} MiB durable, embedded default"
    binary, why = build_reference(workdir)
    ingests, references, hashes = [], [], []
    if binary is None:
        ingests = [
            checked(upload(server.port, who, block, sizes.ingest), sizes.ingest).seconds for _ in range(sizes.runs)
        ]
    else:
        command = reference_command(binary, data_dir / "reference")
        with Process(command, {}, workdir / "reference.log", "/") as reference:
            checked(upload(reference.port, who, block, 64 * MiB), 64 * MiB)
            for _ in range(sizes.runs):
                ingests.append(checked(upload(server.port, who, block, sizes.ingest), sizes.ingest).seconds)
                references.append(checked(upload(reference.port, who, block, sizes.ingest), sizes.ingest).seconds)
                hashes.append(sha256_seconds(block, sizes.ingest))
    ingest = median(ingests)
    hashing = median(hashes) if hashes else sha256_seconds(block, sizes.ingest)
    hash_row = Row(
        "1. (info) against sha256, 1 thread",
        rate(sizes.ingest, ingest),
        f"hashlib.sha256 {rate(sizes.ingest, hashing)}",
        f"{hashing / ingest:.2f}x",
        "(printed)",
        None,
    )
    if binary is None:
        return [Row(name, rate(sizes.ingest, ingest), f"C reference skipped: {why}", "-", ">= 0.9x", None), hash_row]
    reference_seconds = median(references)
    ratio = reference_seconds / ingest
    return [
        Row(
            name,
            rate(sizes.ingest, ingest),
            f"C reference, durable {rate(sizes.ingest, reference_seconds)}",
            f"{ratio:.2f}x",
            ">= 0.9x",
            ratio >= 0.9,
        ),
        hash_row,
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
