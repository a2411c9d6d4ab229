"""The command line's building blocks: a command (with `--json`) and a group of them."""

from __future__ import annotations

import argparse
from typing import Any, TypeAlias

JSON_HELP = "print exactly one JSON document instead of a table"
# A string: argparse's class is not subscriptable at run time.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def command(parent: Subcommands, name: str, handler: object, help_text: str) -> argparse.ArgumentParser:
    """A command of `parent` run by `handler`, with `--json`."""
    parser = parent.add_parser(name, help=help_text, description=help_text)
    parser.add_argument("--json", action="store_true", help=JSON_HELP)
    parser.set_defaults(handler=handler)
    return parser


def command_group(top: Subcommands, name: str, help_text: str) -> Any:
    """A group of commands (`NAME ACTION`), its action in `NAME_command`."""
    return top.add_parser(name, help=help_text, description=help_text).add_subparsers(
        dest=f"{name}_command", required=True, metavar="ACTION"
    )
