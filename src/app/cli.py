"""`backup-collect`: the operator's command line. The commands live in adapters.cli; this entry point
reads the settings, builds the container and runs one of them.

Only the parser and the settings are imported up front: `--help` and usage errors answer at once, and
the container (SQLAlchemy, alembic, obstore, the Redis client, the HTTP stack) is imported and built
only for a command that runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from adapters.cli.parser import build_parser
from adapters.cli.services import CliError, CliServices, JsonLines, Printed, Reported, UsageError
from app.settings import Settings, SettingsError
from domain.errors import DomainError

if TYPE_CHECKING:
    from adapters.sql.migrate import Migrated

Command = Callable[[CliServices, argparse.Namespace], Awaitable[Any]]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "receipt":  # offline: no settings, no database
            from app.offline import verify_receipt

            print(json.dumps(verify_receipt(args.file, args.public_key, args.proof)))
            return 0
        settings = Settings.from_env(os.environ)
        if args.command == "serve":
            return _serve(settings, args)
        if args.command == "migrate":
            return asyncio.run(_migrate(settings))
        if args.command == "log" and args.log_command == "keygen":
            return _keygen(settings, args)
        return asyncio.run(_run(settings, args.handler, args))
    except UsageError as exc:
        print(f"backup-collect: {exc}", file=sys.stderr)
        return 2
    except (SettingsError, CliError, DomainError, ValueError, OSError) as exc:
        print(f"backup-collect: {exc}", file=sys.stderr)
        return 1


def announce_new_data_dir(settings: Settings, say: Callable[[str], object] | None = None) -> None:
    """The embedded default creates its data dir on first use. Run from the wrong directory, or with
    BACKUP_DATA_DIR unset by mistake, a command would otherwise answer from a new, empty service silently.
    Called once the command line is known good, right before the container (or `serve`) creates it.
    `say`: where the line goes (serve logs it, in BACKUP_LOG_FORMAT); a plain line on stderr by default."""
    if settings.uses_data_dir and not settings.data_dir.exists():
        where = settings.data_dir.expanduser().resolve()
        line = f"{where} does not exist: creating a new, empty data dir"
        if say is not None:
            say(line)
        else:
            print(f"backup-collect: {line}", file=sys.stderr)


async def _run(settings: Settings, handler: Command, args: argparse.Namespace) -> int:
    from adapters.cli.render import human
    from adapters.shapes import plain
    from app.composition import build

    announce_new_data_dir(settings)
    container = build(settings)
    try:
        await container.start()
        outcome = await handler(container, args)
    finally:
        await container.close()
    if isinstance(outcome, Printed):
        sys.stdout.write(outcome.text)
        return 0
    if isinstance(outcome, JsonLines):
        for item in outcome.items:
            print(json.dumps(item))
        return 0
    failed = isinstance(outcome, Reported) and outcome.failed
    result = plain(outcome.value if isinstance(outcome, Reported) else outcome, operator=True)
    print(json.dumps(result) if args.json else human(result))
    return 1 if failed else 0


async def _migrate(settings: Settings) -> int:
    from app.composition import build

    announce_new_data_dir(settings)
    container = build(settings)
    try:
        migrated = await container.start()
    finally:
        await container.close()
    print(migrated_line(migrated))
    return 0


def migrated_line(migrated: Migrated | None) -> str:
    """What `migrate` did, in one line: a new database is not "up to date", it was just created."""
    if migrated is None or not migrated.applied:
        return "schema is up to date"
    count = len(migrated.applied)
    applied = f"{count} migration{'s' * (count != 1)} applied: {', '.join(migrated.applied)}"
    if migrated.before is None:
        return f"schema created at revision {migrated.after} ({applied})"
    return f"schema upgraded from revision {migrated.before} to {migrated.after} ({applied})"


def _keygen(settings: Settings, args: argparse.Namespace) -> int:
    """Needs no database: write the signer key (0600, never over a file) and print its verifier key."""
    from pathlib import Path

    from adapters.runtime.logkey import Ed25519Signer, write_signer

    signer = Ed25519Signer.generate(args.name or settings.log_origin)
    try:
        write_signer(Path(args.output), signer)
    except FileExistsError:
        raise CliError(f"log keygen: {args.output} exists already; it is never overwritten") from None
    print(signer.verifier().text())
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from app import logs
    from app.serve import Tls, serve

    if (args.tls_cert is None) != (args.tls_key is None):
        raise UsageError("serve: --tls-cert and --tls-key go together (HTTPS needs both the certificate and its key)")
    tls = Tls(args.tls_cert, args.tls_key) if args.tls_cert else None
    if tls is not None:
        tls.check()  # files that do not load stop serve before it creates anything
    # From here on serve writes only log lines, in BACKUP_LOG_FORMAT (json: one object per line).
    logs.configure(settings.log_format)
    announce_new_data_dir(settings, logging.getLogger(__name__).warning)
    from app.eventlog import LogKey

    LogKey(settings).load()  # a missing or unreadable key file stops serve with one line, before it listens
    return serve(settings, args.host, args.port, tls)


def entry() -> None:
    """The console script. Once the command has run and its output is flushed, the process ends without
    interpreter teardown: obstore's native runtime threads can abort a process that finalizes while
    they still wind down (seen as a rare SIGABRT after `backup get` had written and verified its file)."""
    try:
        code = main()
    except KeyboardInterrupt:
        # Ctrl-C before serve's own handling is in place, or in any other command: one line, no traceback.
        print("backup-collect: interrupted", file=sys.stderr)
        code = 130
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
