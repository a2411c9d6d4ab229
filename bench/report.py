"""The result table: raw figures, the baseline, the ratio, the target and pass/fail per line."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.body import GiB, MiB


@dataclass(frozen=True, slots=True)
class Row:
    """One measured line. `passed` is None for a figure without a target (printed as `info`)."""

    name: str
    measured: str
    baseline: str
    ratio: str
    target: str
    passed: bool | None


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def rate(size: int, seconds: float) -> str:
    per_second = size / seconds
    return f"{per_second / GiB:.2f} GiB/s" if per_second >= GiB / 2 else f"{per_second / MiB:.0f} MiB/s"


def table(rows: Sequence[Row]) -> str:
    """A Markdown table: readable on a terminal and pasted as is into the README."""
    header = ("measure", "measured", "baseline (same run)", "ratio", "target", "result")
    lines = [header] + [
        (
            row.name,
            row.measured,
            row.baseline,
            row.ratio,
            row.target,
            "info" if row.passed is None else ("PASS" if row.passed else "FAIL"),
        )
        for row in rows
    ]
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]

    def render(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([render(lines[0]), rule, *(render(line) for line in lines[1:])])


def machine() -> str:
    """nproc, CPU model, RAM, kernel and Python: what the figures were measured on."""
    model = "unknown CPU"
    memory = 0
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1]) * 1024
            break
    return (
        f"{os.cpu_count()} cores ({model}), {memory / GiB:.1f} GiB RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}"
    )
