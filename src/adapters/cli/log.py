"""The `log` commands: read the event log (and, later, keep and check its signed checkpoints)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from adapters.cli.services import CliServices, JsonLines, UsageError
from domain.errors import InvalidInput

PAGE = 1000


async def log_show(services: CliServices, args: argparse.Namespace) -> Any:
    """Every matching entry, one JSON object a line, oldest first; bad --since or --type is a usage error."""
    try:
        query = services.history.query(system_key=args.system, since=args.since, type=args.type, limit=PAGE)
    except InvalidInput as error:
        raise UsageError(f"log show: --{error.key}: {error.message}") from None
    lines: list[dict[str, object]] = []
    while True:
        page = await services.history.page(query)
        lines.extend(event.as_json() for event in page.events)
        if page.next_after is None:
            return JsonLines(lines)
        query = replace(query, after=page.next_after)
