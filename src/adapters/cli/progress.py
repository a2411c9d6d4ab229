"""A progress bar on stderr for long transfers, drawn only when a person is watching."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from domain.sizes import human_size


class Progress:
    """Redraws at most ten times a second; silent unless `stream` is a terminal."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._on = self._stream.isatty()
        self._label = label
        self._total = max(total, 1)
        self._done = 0
        self._drawn = 0.0

    def advance(self, amount: int) -> None:
        self._done += amount
        now = time.monotonic()
        if self._on and (now - self._drawn >= 0.1 or self._done >= self._total):
            self._drawn = now
            share = min(self._done / self._total, 1.0)
            bar = "#" * int(share * 30)
            self._stream.write(f"\r{self._label} [{bar:<30}] {share:4.0%} {human_size(self._done)}")
            self._stream.flush()

    def close(self) -> None:
        if self._on:
            self._stream.write("\n")
            self._stream.flush()
