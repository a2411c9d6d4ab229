"""One handler per operator command: parse the arguments' values, call a use case, return its result."""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from adapters.cli.options import duration_option, schedule_option, size_option, tier_options
from adapters.cli.progress import Progress
from adapters.cli.services import CliError, CliServices, Printed, Reported, UsageError
from adapters.shapes import preview_shape, report_csv
from domain.events import Via
from domain.naming import download_name
from domain.restore import verified


async def org_create(services: CliServices, args: argparse.Namespace) -> Any:
    quota = None if args.quota is None else size_option(args.quota, "--quota")
    return await services.registry.create_org(args.name, quota)


async def org_list(services: CliServices, _: argparse.Namespace) -> Any:
    return await services.orgs.list_orgs()


async def org_show(services: CliServices, args: argparse.Namespace) -> Any:
    return await services.orgs.show(args.org_id)


async def org_set_quota(services: CliServices, args: argparse.Namespace) -> Any:
    quota = None if args.size.strip().lower() == "default" else size_option(args.size, "SIZE")
    return await services.orgs.set_quota(args.org_id, quota)


async def org_set_retention(services: CliServices, args: argparse.Namespace) -> Any:
    changes = tier_options(args)
    if args.default:
        if changes:
            raise UsageError("either `default` or --keep-* options, not both")
        return await services.orgs.set_retention(args.org_id, None)
    if not changes:
        raise UsageError("give --keep-last/--keep-daily/--keep-weekly/--keep-monthly, or `default`")
    current = (await services.orgs.show(args.org_id)).retention
    return await services.orgs.set_retention(args.org_id, replace(current, **changes))


async def retention_preview(services: CliServices, args: argparse.Namespace) -> Any:
    return preview_shape(await services.retention.preview(args.key, tier_options(args)))


async def retention_apply(services: CliServices, args: argparse.Namespace) -> Any:
    return await services.retention.apply(args.org)


async def backup_protect(services: CliServices, args: argparse.Namespace) -> Any:
    return await services.retention.protect(args.key, args.id, args.note, Via.CLI)


async def backup_unprotect(services: CliServices, args: argparse.Namespace) -> Any:
    return await services.retention.unprotect(args.key, args.id, Via.CLI)


async def system_create(services: CliServices, args: argparse.Namespace) -> Any:
    return await services.registry.create_system(args.org, args.key)


async def system_list(services: CliServices, args: argparse.Namespace) -> Any:
    return await services.systems.list_systems(args.org)


async def system_show(services: CliServices, args: argparse.Namespace) -> Any:
    return await services.systems.show(args.key)


async def system_rotate_secret(services: CliServices, args: argparse.Namespace) -> Any:
    return await services.registry.rotate_secret(args.key)


async def system_suspend(services: CliServices, args: argparse.Namespace) -> Any:
    return await services.registry.set_suspended(args.key, True)


async def system_resume(services: CliServices, args: argparse.Namespace) -> Any:
    return await services.registry.set_suspended(args.key, False)


async def system_destroy(services: CliServices, args: argparse.Namespace) -> Any:
    if not args.yes:
        # Never prompts: scripts must not hang, and a person types --yes as deliberately as "y".
        raise UsageError(f"system destroy erases every backup of {args.key}: add --yes to confirm")
    return await services.destroy(args.key, Via.CLI, args.include_protected)


async def backup_list(services: CliServices, args: argparse.Namespace) -> Any:
    who = await services.systems.identity(args.key)
    return (await services.operator_access.listing(who)).backups


async def backup_delete(services: CliServices, args: argparse.Namespace) -> Any:
    who = await services.systems.identity(args.key)
    deleted = await services.operator_access.delete(who, args.id, Via.CLI)
    return {"id": deleted.id}


async def backup_get(services: CliServices, args: argparse.Namespace) -> Any:
    """Stream into a temporary file beside the target, renamed into place only once the sha256
    matches: a mismatch or a failure leaves no file behind."""
    who = await services.systems.identity(args.key)
    download = await services.operator_access.fetch(who, args.id)
    backup = download.backup
    target = Path(args.output) if args.output else Path.cwd() / download_name(backup.filename, backup.envelope)
    part = PartFile(target)
    progress = Progress(target.name, backup.size)
    try:
        async for chunk in verified(download):
            part.write(chunk)
            progress.advance(len(chunk))
        part.commit()
    finally:
        progress.close()
        part.discard()
    return {"id": backup.id, "path": str(target), "size": backup.size, "sha256": backup.sha256}


class PartFile:
    """A temporary file in the target's directory (so the final rename is atomic)."""

    def __init__(self, target: Path) -> None:
        if target.is_dir():
            raise CliError(f"{target} is a directory")
        if not target.parent.is_dir():
            raise CliError(f"{target.parent} is not a directory")
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        self._out = os.fdopen(handle, "wb")
        self._temp = Path(name)
        self._target = target
        self._done = False

    def write(self, chunk: bytes) -> None:
        self._out.write(chunk)

    def commit(self) -> None:
        self._out.close()
        self._temp.replace(self._target)
        self._done = True

    def discard(self) -> None:
        """Remove the temporary file unless it was committed."""
        self._out.close()
        if not self._done:
            with contextlib.suppress(OSError):
                self._temp.unlink()


async def stale(services: CliServices, args: argparse.Namespace) -> Any:
    return await services.systems.stale(duration_option(args.older_than, "--older-than"))


async def system_set_schedule(services: CliServices, args: argparse.Namespace) -> Any:
    await services.schedules.set_system(args.key, schedule_option(args))
    return await services.systems.show(args.key)


async def org_set_schedule(services: CliServices, args: argparse.Namespace) -> Any:
    return await services.schedules.set_org(args.org_id, schedule_option(args))


async def fsck(services: CliServices, args: argparse.Namespace) -> Any:
    if services.fsck is None:
        raise CliError("fsck needs the database ledger; none is configured")
    report = await services.fsck(repair=args.repair, verify_checksums=args.verify_checksums)
    return Reported({"ok": report.ok, "problems": report.problems, "repaired": report.repaired}, not report.ok)


async def webhook_add(services: CliServices, args: argparse.Namespace) -> Any:
    events = None if args.events is None else [e for e in args.events.split(",") if e.strip()]
    return await services.webhooks.add(args.url, args.org, events, args.format)


async def webhook_list(services: CliServices, _: argparse.Namespace) -> Any:
    return await services.webhooks.list_webhooks()


async def webhook_remove(services: CliServices, args: argparse.Namespace) -> Any:
    return await services.webhooks.remove(args.id)


async def webhook_test(services: CliServices, args: argparse.Namespace) -> Any:
    return await services.webhooks.test(args.id)


async def webhook_deliveries(services: CliServices, args: argparse.Namespace) -> Any:
    return await services.webhooks.deliveries(args.id)


async def report(services: CliServices, args: argparse.Namespace) -> Any:
    window = duration_option(args.since, "--since") or timedelta(hours=24)
    made = await services.reports(args.org, window)
    if args.format == "csv":
        return Printed(report_csv(made))
    if args.format == "json":
        args.json = True
    return made
