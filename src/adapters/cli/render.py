"""Human-readable output: aligned tables for lists, `key value` lines for one record."""

from __future__ import annotations

from typing import Any

from domain.sizes import human_size

# Keys whose integer values are byte counts, shown in IEC units.
_DURATIONS = {"expected_every", "grace"}
_SIZES = {"size", "total_size", "used_bytes", "quota_bytes", "effective_quota_bytes", "max_total_size"}


def human(result: Any) -> str:
    """`result` is already JSON-ready (see adapters.shapes.plain)."""
    if isinstance(result, list):
        return table(result)
    if isinstance(result, dict):
        width = max((len(key) for key in result), default=0)
        lines = [
            f"{key}:\n" + _indent(table(value)) if _rows(value) else f"{key:<{width}}  {cell(key, value)}"
            for key, value in result.items()
        ]
        if "system_secret" in result:
            lines.append("The secret is shown only this once: hand it to the appliance now.")
        return "\n".join(lines)
    return str(result)


def _rows(value: Any) -> bool:
    """A list of records (a table under its key); a list of plain values (a webhook's events) is one cell."""
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def table(rows: list[Any]) -> str:
    if not rows:
        return "(none)"
    headers = list(rows[0])
    cells = [[cell(key, row.get(key)) for key in headers] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def cell(key: str, value: Any) -> str:
    if key == "quota_bytes" and value is None:
        return "default"
    if key in {"quota_bytes", "effective_quota_bytes"} and value == 0:
        return "none"
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key in _SIZES and isinstance(value, int):
        return human_size(value)
    if key in _DURATIONS and isinstance(value, int):
        return duration(value)
    if isinstance(value, list):
        return ",".join(str(item) for item in value) or "-"
    if key == "last_error" and isinstance(value, dict):
        return f"{value['status']} {value['key']} at {value['at']}"
    return str(value)


def duration(seconds: int) -> str:
    """Whole seconds as operators write them: the largest unit of `w d h m s` that divides them."""
    for unit, length in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % length == 0:
            return f"{seconds // length}{unit}"
    return f"{seconds}s"


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
