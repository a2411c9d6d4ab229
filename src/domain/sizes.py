"""Sizes as operators write them: plain bytes or IEC units."""

from __future__ import annotations

import re

from domain.errors import InvalidInput

_UNITS = {"": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}
_SIZE = re.compile(r"\s*([0-9]+)\s*([A-Za-z]*)\s*")
# The largest byte count the catalog stores (a signed 64-bit integer): 8 EiB.
MAX_BYTES = (1 << 63) - 1


def parse_size(text: str) -> int:
    """Plain bytes or IEC units: `2GiB`, `500 MiB`, `1048576`. Raises ValueError otherwise (`2GB` is
    ambiguous and refused)."""
    match = _SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a size: use bytes or IEC units (KiB, MiB, GiB, TiB)")
    size = int(match.group(1)) * _UNITS[unit]
    if size > MAX_BYTES:
        raise ValueError(f"{text!r} is too large: at most {MAX_BYTES} bytes")
    return size


def human_size(size: int) -> str:
    """Bytes for a person, in IEC units to one decimal: `512 B`, `1.5 MiB`, `100 GiB` (the CLI's and the
    console's one way of showing a size)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}".replace(".0 ", " ")
        value /= 1024
    raise AssertionError("unreachable")


def check_quota(quota_bytes: int | None) -> int | None:
    """An org's own quota: None follows the default, 0 means none, else 1 to MAX_BYTES bytes."""
    if quota_bytes is not None and not 0 <= quota_bytes <= MAX_BYTES:
        raise InvalidInput("quota_bytes", f"must be null, 0 (no quota) or up to {MAX_BYTES} bytes", str(quota_bytes))
    return quota_bytes
