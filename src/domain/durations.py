"""Durations as operators write them: a whole number and one unit of `s m h d w` (`90m`, `36h`, `2d`)."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"\s*([0-9]+)\s*([smhdw])\s*")
# Far beyond any backup schedule, and inside what datetime arithmetic can hold.
MAX_SECONDS = 100 * 366 * 86400


def parse_duration(text: str) -> timedelta:
    """Raises ValueError naming the accepted units for anything else."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration: use a whole number and one of s m h d w, e.g. 90m, 36h, 2d")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > MAX_SECONDS:
        raise ValueError(f"{text!r} is too long: at most 100 years")
    return timedelta(seconds=seconds)
