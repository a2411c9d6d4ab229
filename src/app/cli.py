"""`backup-collect`: the operator's command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from app.composition import Container, build
from app.settings import Settings, SettingsError, format_size, parse_size
from domain.errors import DomainError

Command = Callable[[Container, argparse.Namespace], Awaitable[Any]]


class CliError(Exception):
    """One line for stderr, exit 1."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
        if args.command == "serve":
            return _serve(settings, args.host, args.port)
        return asyncio.run(_run(settings, args.handler, args))
    except (SettingsError, CliError, DomainError, ValueError) as exc:
        print(f"backup-collect: {exc}", file=sys.stderr)
        return 1


async def _run(settings: Settings, handler: Command, args: argparse.Namespace) -> int:
    container = build(settings)
    try:
        await container.start()
        result = await handler(container, args)
    finally:
        await container.close()
    if getattr(args, "json", False):
        print(json.dumps(result))
    elif result is not None:
        print(_human(result))
    return 0


def _serve(settings: Settings, host: str, port: int) -> int:
    import uvicorn

    from app.asgi import create_app

    if settings.is_embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", proxy_headers=False)
    return 0


async def _migrate(container: Container, _: argparse.Namespace) -> None:
    print("schema is up to date")


async def _org_create(container: Container, args: argparse.Namespace) -> dict[str, Any]:
    quota = None if args.quota is None else _size(args.quota, "--quota")
    org = await container.registry.create_org(args.name, quota)
    return {"id": org.id, "name": org.name, "quota_bytes": org.quota_bytes}


async def _system_create(container: Container, args: argparse.Namespace) -> dict[str, Any]:
    created = await container.registry.create_system(args.org, args.key)
    return {"system_key": created.system_key, "system_secret": created.system_secret, "org_id": created.org_id}


def _size(text: str, option: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise CliError(f"{option}: {exc}") from None


def _human(result: dict[str, Any]) -> str:
    lines = []
    for key, value in result.items():
        shown = "default" if value is None and key == "quota_bytes" else value
        if key.endswith("_bytes") and isinstance(value, int):
            shown = "none" if value == 0 and key == "quota_bytes" else format_size(value)
        lines.append(f"{key:<14} {shown}")
    if "system_secret" in result:
        lines.append("The secret is shown only this once: hand it to the appliance now.")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backup-collect",
        description="Collect GPG-encrypted configuration backups from appliances. "
        "Configured by BACKUP_* environment variables (see README).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP API (creates the embedded data dir and schema)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")

    migrate = commands.add_parser("migrate", help="bring the database schema up to date (idempotent)")
    migrate.set_defaults(handler=_migrate)

    org = commands.add_parser("org", help="manage organizations").add_subparsers(
        dest="org_command", required=True, metavar="ACTION"
    )
    org_create = org.add_parser("create", help="create an organization")
    org_create.add_argument("name", metavar="NAME")
    org_create.add_argument(
        "--quota", metavar="SIZE", help="own quota (bytes or IEC units; 0 = none); default: BACKUP_MAX_SIZE_PER_ORG"
    )
    org_create.add_argument("--json", action="store_true", help="print one JSON document")
    org_create.set_defaults(handler=_org_create)

    system = commands.add_parser("system", help="manage systems (appliances)").add_subparsers(
        dest="system_command", required=True, metavar="ACTION"
    )
    system_create = system.add_parser("create", help="create a system; prints its secret once")
    system_create.add_argument("--org", required=True, metavar="ORG_ID", help="the organization's id")
    system_create.add_argument("--key", metavar="KEY", help="system key (default: generated)")
    system_create.add_argument("--json", action="store_true", help="print one JSON document")
    system_create.set_defaults(handler=_system_create)
    return parser


if __name__ == "__main__":
    sys.exit(main())
