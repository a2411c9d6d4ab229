"""The values of the commands' options: sizes, durations, --keep-* tiers and schedules. A bad one is a usage
error naming the option (exit 2), or InvalidInput for a --keep-* tier (exit 1)."""

from __future__ import annotations

import argparse
from datetime import timedelta

from adapters.cli.services import UsageError
from domain.durations import parse_duration
from domain.errors import InvalidInput
from domain.health import ScheduleOverride
from domain.keeping import TIERS
from domain.sizes import parse_size


def size_option(text: str, option: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def duration_option(text: str | None, option: str) -> timedelta | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def tier_options(args: argparse.Namespace) -> dict[str, int]:
    """The --keep-* options given, as whole numbers (anything else: InvalidInput, key retention, exit 1)."""
    found = {}
    for tier in TIERS:
        text = getattr(args, tier)
        if text is None:
            continue
        if not text.strip().isdigit():
            raise InvalidInput("retention", f"--{tier.replace('_', '-')} must be a whole number ≥ 0", text)
        found[tier] = int(text)
    return found


def schedule_option(args: argparse.Namespace) -> ScheduleOverride:
    """`default`, or `--every` and/or `--grace` (an omitted one follows the level above)."""
    if (args.default is None) == (args.every is None and args.grace is None):
        raise UsageError("give --every and/or --grace, or the word default (not both)")
    every, grace = duration_option(args.every, "--every"), duration_option(args.grace, "--grace")
    if every is not None and not every:
        raise UsageError("--every: must be longer than 0")
    return ScheduleOverride(every=every, grace=grace)
