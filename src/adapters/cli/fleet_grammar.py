"""The command line's grammar of the fleet: `org`, `system` and `retention`. Every `--help` here is what the
command does."""

from __future__ import annotations

import argparse

from adapters.cli import commands
from adapters.cli.grammar import Subcommands, command, command_group


def add_orgs(top: Subcommands) -> None:
    org = command_group(top, "org", "manage organizations")
    create = command(org, "create", commands.org_create, "create an organization")
    create.add_argument("name", metavar="NAME")
    create.add_argument(
        "--quota", metavar="SIZE", help="own quota (bytes or IEC units; 0 = none); default: BACKUP_MAX_SIZE_PER_ORG"
    )
    command(org, "list", commands.org_list, "list organizations with their usage and number of systems")
    show = command(org, "show", commands.org_show, "show one organization and the quota that applies to it")
    show.add_argument("org_id", metavar="ORG_ID")
    quota = command(org, "set-quota", commands.org_set_quota, "set an organization's own quota")
    quota.add_argument("org_id", metavar="ORG_ID")
    quota.add_argument(
        "size", metavar="SIZE|default", help="bytes or IEC units, 0 = no quota, default = BACKUP_MAX_SIZE_PER_ORG"
    )
    keep = command(
        org,
        "set-retention",
        commands.org_set_retention,
        "give an organization its own retention policy: the options given change the policy in force; "
        "`default` follows BACKUP_KEEP_* again. Applies at each system's next upload, or `retention apply`",
    )
    keep.add_argument("org_id", metavar="ORG_ID")
    keep.add_argument("default", nargs="?", choices=["default"], help="drop the organization's own policy")
    _tier_options(keep)

    schedule = command(
        org, "set-schedule", commands.org_set_schedule, "set how often the org's systems must store a backup"
    )
    schedule.add_argument("org_id", metavar="ORG_ID")
    _schedule_options(schedule, "BACKUP_EXPECT_EVERY / BACKUP_GRACE")


def _schedule_options(command: argparse.ArgumentParser, above: str) -> None:
    command.add_argument("default", nargs="?", choices=["default"], help=f"drop the own schedule: follow {above} again")
    command.add_argument("--every", metavar="DURATION", help="expected interval (90m, 36h, 2d); omitted: " + above)
    command.add_argument(
        "--grace", metavar="DURATION", help="slack past it before `down` (0s allowed); omitted: " + above
    )


def _tier_options(command: argparse.ArgumentParser) -> None:
    for tier, what in (
        ("last", "the N newest backups (≥ 1)"),
        ("daily", "the newest backup of each of N UTC days"),
        ("weekly", "the newest backup of each of N ISO weeks"),
        ("monthly", "the newest backup of each of N calendar months"),
    ):
        command.add_argument(f"--keep-{tier}", dest=f"keep_{tier}", metavar="N", help=f"keep {what}")


def add_retention(top: Subcommands) -> None:
    group = command_group(top, "retention", "see and apply what retention keeps")
    preview = command(
        group,
        "preview",
        commands.retention_preview,
        "list a system's backups with what keeps each (kept_by; - = would be pruned) under the policy in force, "
        "or with the --keep-* options given changing it; nothing is changed",
    )
    preview.add_argument("key", metavar="KEY")
    _tier_options(preview)
    apply = command(
        group, "apply", commands.retention_apply, "prune now what the policies in force keep no more, with each rule"
    )
    apply.add_argument("--org", metavar="ORG_ID", help="only this organization's systems")


def add_systems(top: Subcommands) -> None:
    system = command_group(top, "system", "manage systems (appliances)")
    create = command(system, "create", commands.system_create, "create a system; prints its secret once")
    create.add_argument("--org", required=True, metavar="ORG_ID", help="the organization's id")
    create.add_argument("--key", metavar="KEY", help="system key (default: generated)")
    listing = command(system, "list", commands.system_list, "list systems with their backups at a glance")
    listing.add_argument("--org", metavar="ORG_ID", help="only this organization's systems")
    for name, handler, help_text in (
        ("show", commands.system_show, "show one system with its caps"),
        ("rotate-secret", commands.system_rotate_secret, "give a system a new secret (shown once); the old one fails"),
        ("suspend", commands.system_suspend, "refuse a system's credentials (401) until it is resumed"),
        ("resume", commands.system_resume, "accept a suspended system's credentials again"),
    ):
        command(system, name, handler, help_text).add_argument("key", metavar="KEY")
    schedule = command(
        system, "set-schedule", commands.system_set_schedule, "set how often a system must store a backup"
    )
    schedule.add_argument("key", metavar="KEY")
    _schedule_options(schedule, "its organization's schedule")
    destroy = command(
        system,
        "destroy",
        commands.system_destroy,
        "erase every object of a system, then its rows; a rerun completes an interrupted one",
    )
    destroy.add_argument("key", metavar="KEY")
    destroy.add_argument("--yes", action="store_true", help="confirm; without it nothing is erased (never prompts)")
    destroy.add_argument(
        "--include-protected", action="store_true", help="erase protected backups too (refused without it)"
    )
