"""Sizes as operators write them: plain bytes or IEC units."""

from __future__ import annotations

import re

_UNITS = {"": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}
_SIZE = re.compile(r"\s*(\d+)\s*([A-Za-z]*)\s*")


def parse_size(text: str) -> int:
    """Plain bytes or IEC units: `2GiB`, `500 MiB`, `1048576`. Raises ValueError otherwise (`2GB` is
    ambiguous and refused)."""
    match = _SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a size: use bytes or IEC units (KiB, MiB, GiB, TiB)")
    return int(match.group(1)) * _UNITS[unit]


def format_size(size: int) -> str:
    """The largest IEC unit that divides `size` exactly, else bytes."""
    for unit, factor in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"
