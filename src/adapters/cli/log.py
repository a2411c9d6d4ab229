"""The `log` commands (show, checkpoint, verify) and `verify`, the scrubber run now."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from adapters.cli.services import CliError, CliServices, JsonLines, Reported, UsageError
from adapters.shapes import event_json
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
        lines.extend(event_json(event) for event in page.events)
        if page.next_after is None:
            return JsonLines(lines)
        query = replace(query, after=page.next_after)


async def log_checkpoint(services: CliServices, args: argparse.Namespace) -> Any:  # noqa: ARG001
    """Sign a checkpoint of the log now: `{"tree_size", "checkpoint"}` (the latest, new or not)."""
    await services.log.checkpointer()
    latest = await services.log.store.latest()
    if latest is None:
        raise CliError("no checkpoint could be made")
    return {"tree_size": latest.tree_size, "checkpoint": latest.note}


async def log_verify(services: CliServices, args: argparse.Namespace) -> Any:  # noqa: ARG001
    """Re-hash every entry and check every checkpoint; exit 1 naming the first bad seq."""
    report = await services.log.audit()
    problems = [{"seq": p.seq, "problem": p.problem} for p in report.problems]
    value = {
        "ok": report.ok,
        "entries": report.entries,
        "checkpoints": report.checkpoints,
        "first_bad_seq": report.first_bad_seq,
        "problems": problems,
    }
    return Reported(value, failed=not report.ok)


async def verify(services: CliServices, args: argparse.Namespace) -> Any:
    """Scrub now: re-read every stored object (of one system) at BACKUP_VERIFY_RATE; exit 1 on a mismatch or a
    missing object."""
    if services.scrubber is None:
        raise CliError("verify: the catalog cannot be seen whole here")
    system_id = None if args.system is None else (await services.systems.identity(args.system)).system_id
    done = await services.scrubber.everything(system_id)
    from domain.events import system_key_of  # here, not at the top: `--help` stays light

    failures = [{"system_key": system_key_of(f.backup), "id": f.backup.id, "result": f.result} for f in done.failures]
    value = {"ok": not failures, "verified": done.verified, "bytes_read": done.bytes_read, "failures": failures}
    return Reported(value, failed=bool(failures))
