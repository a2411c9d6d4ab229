"""What the console's pages show, computed from the use cases' answers: rows, ages, sizes, the chart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from adapters.shapes import rfc3339
from domain.health import SystemState
from domain.model import Backup
from domain.organizations import OrgSummary
from domain.sizes import human_size


def human_age(moment: datetime | None, now: datetime) -> str:
    """`never`, `just now`, `40 min ago`, `5 h 12 min ago`, `3 d 4 h ago`."""
    if moment is None:
        return "never"
    minutes = int((now - moment).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h ago"
    return f"{hours} h {minutes} min ago" if hours else f"{minutes} min ago"


def human_duration(span: timedelta) -> str:
    """`2 d`, `36 h`, `30 min`, `45 s`: the largest unit that divides the span (days from two on)."""
    seconds = int(span.total_seconds())
    if seconds >= 2 * 86400 and seconds % 86400 == 0:
        return f"{seconds // 86400} d"
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds and seconds % 60 == 0 else f"{seconds} s"


@dataclass(frozen=True, slots=True)
class OrgRow:
    org: OrgSummary
    quota: int
    """The quota that applies, 0 when none does."""
    stale: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.org.used_bytes / self.quota)) if self.quota else 0


class Listed(Protocol):
    """A system as `system list` or `system show` gives it."""

    @property
    def system_key(self) -> str: ...
    @property
    def last_backup_at(self) -> datetime | None: ...
    @property
    def state(self) -> SystemState: ...


# Rows needing attention first: the order an operator works through them.
_URGENCY = {state: rank for rank, state in enumerate(("failing", "down", "late", "new", "up", "paused"))}


@dataclass(frozen=True, slots=True)
class SystemRow:
    system: Listed
    state: str
    age: str
    last: str

    @property
    def stale(self) -> bool:
        """Needs attention: `down` or `failing` (shown in the alarm colour)."""
        return self.state in {"down", "failing"}


def system_rows(systems: Sequence[Listed], now: datetime) -> list[SystemRow]:
    """Failing, down, late, new, up, paused; within a state never-uploaded first, then oldest, then by key."""
    ordered = sorted(
        systems,
        key=lambda s: (_URGENCY[s.state], s.last_backup_at is not None, s.last_backup_at or now, s.system_key),
    )
    return [
        SystemRow(
            system=s,
            state=s.state.value,
            age=human_age(s.last_backup_at, now),
            last=rfc3339(s.last_backup_at) if s.last_backup_at else "",
        )
        for s in ordered
    ]


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    """An SVG line of backup sizes over upload time, in a `width` x `height` viewBox."""

    width: int
    height: int
    points: list[Point]
    top_label: str
    first_label: str
    last_label: str

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


CHART_WIDTH, CHART_HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_Y = 640, 180, 70, 16, 22


def size_chart(backups: list[Backup]) -> Chart | None:
    """None without backups. Time runs left to right, size grows upwards from zero."""
    if not backups:
        return None
    ordered = sorted(backups, key=lambda b: b.uploaded_at)
    start, end = ordered[0].uploaded_at, ordered[-1].uploaded_at
    span = (end - start).total_seconds()
    biggest = max(b.size for b in ordered) or 1
    plot_w, plot_h = CHART_WIDTH - PAD_LEFT - PAD_RIGHT, CHART_HEIGHT - 2 * PAD_Y
    points = [
        Point(
            x=PAD_LEFT + (plot_w * (b.uploaded_at - start).total_seconds() / span if span else plot_w / 2),
            y=PAD_Y + plot_h * (1 - b.size / biggest),
            label=f"{rfc3339(b.uploaded_at)}: {human_size(b.size)}",
        )
        for b in ordered
    ]
    return Chart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        points=points,
        top_label=human_size(biggest),
        first_label=start.strftime("%Y-%m-%d %H:%M"),
        last_label=end.strftime("%Y-%m-%d %H:%M"),
    )
