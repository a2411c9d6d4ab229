"""The command line's grammar. Every `--help` here is what the command does."""

from __future__ import annotations

import argparse
from typing import Any

from adapters.cli import commands, log

JSON_HELP = "print exactly one JSON document instead of a table"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backup-collect",
        description="Collect GPG-encrypted configuration backups from appliances. "
        "Configured by BACKUP_* environment variables (see docs/operations.md).",
    )
    top = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = top.add_parser("serve", help="run the HTTP API (creates the embedded data dir and schema)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    serve.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this PEM certificate (chain)")
    serve.add_argument("--tls-key", metavar="FILE", help="the PEM private key of --tls-cert")

    top.add_parser("migrate", help="bring the database schema up to date (idempotent)")
    _orgs(top)
    _systems(top)
    _webhooks(top)
    report = _command(
        top,
        "report",
        commands.report,
        "per system its state and its uploads stored, duplicate, refused and pruned over a window; per org its "
        "usage against its quota",
    )
    report.add_argument("--org", metavar="ORG_ID", help="only this organization")
    report.add_argument("--since", metavar="DURATION", help="the window, back from now (default: 24h)")
    report.add_argument("--format", choices=["text", "json", "csv"], default="text", help="default: text")
    _backups(top)
    _log(top)
    scrub = _command(
        top,
        "verify",
        log.verify,
        "re-read every stored object now at BACKUP_VERIFY_RATE and check size and sha256; exit 1 on a mismatch "
        "or a missing object (nothing is removed)",
    )
    scrub.add_argument("--system", metavar="KEY", help="only this system's backups")
    receipt = _group(top, "receipt", "check a backup's signed receipt offline")
    verify = receipt.add_parser(
        "verify",
        help="check a receipt's signature (and, with --proof, that the signed log holds it); no server needed",
        description="check a receipt's signature (and, with --proof, that the signed log holds it); exit 1 "
        "naming what failed. Needs no server and no database.",
    )
    verify.add_argument("file", metavar="FILE", help="the Backup-Receipt header value (base64) or its signed note")
    verify.add_argument(
        "--public-key", required=True, metavar="KEY", help="the log's verifier key, or a file holding it"
    )
    verify.add_argument("--proof", metavar="FILE", help="the JSON of GET /api/systems/backups/{id}/proof")
    _retention(top)

    stale = _command(
        top,
        "stale",
        commands.stale,
        "systems whose newest backup is older than DURATION (or none); default: the down ones",
    )
    stale.add_argument("--older-than", metavar="DURATION", help="a whole number and a unit of s m h d w: 90m, 36h, 2d")
    check = _command(
        top, "fsck", commands.fsck, "compare the catalog with the object store; exit 0 only when nothing is left wrong"
    )
    check.add_argument(
        "--repair",
        action="store_true",
        help="fix what is safe: orphans and mismatched objects move under quarantine/, rows without objects "
        "and stale uploads are removed, usage counters recomputed",
    )
    check.add_argument("--verify-checksums", action="store_true", help="read every object and compare its sha256")
    return parser


def _command(
    group: argparse._SubParsersAction[argparse.ArgumentParser], name: str, handler: object, help_text: str
) -> argparse.ArgumentParser:
    command = group.add_parser(name, help=help_text, description=help_text)
    command.add_argument("--json", action="store_true", help=JSON_HELP)
    command.set_defaults(handler=handler)
    return command


def _group(top: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str) -> Any:
    return top.add_parser(name, help=help_text, description=help_text).add_subparsers(
        dest=f"{name}_command", required=True, metavar="ACTION"
    )


def _orgs(top: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    org = _group(top, "org", "manage organizations")
    create = _command(org, "create", commands.org_create, "create an organization")
    create.add_argument("name", metavar="NAME")
    create.add_argument(
        "--quota", metavar="SIZE", help="own quota (bytes or IEC units; 0 = none); default: BACKUP_MAX_SIZE_PER_ORG"
    )
    _command(org, "list", commands.org_list, "list organizations with their usage and number of systems")
    show = _command(org, "show", commands.org_show, "show one organization and the quota that applies to it")
    show.add_argument("org_id", metavar="ORG_ID")
    quota = _command(org, "set-quota", commands.org_set_quota, "set an organization's own quota")
    quota.add_argument("org_id", metavar="ORG_ID")
    quota.add_argument(
        "size", metavar="SIZE|default", help="bytes or IEC units, 0 = no quota, default = BACKUP_MAX_SIZE_PER_ORG"
    )
    keep = _command(
        org,
        "set-retention",
        commands.org_set_retention,
        "give an organization its own retention policy: the options given change the policy in force; "
        "`default` follows BACKUP_KEEP_* again. Applies at each system's next upload, or `retention apply`",
    )
    keep.add_argument("org_id", metavar="ORG_ID")
    keep.add_argument("default", nargs="?", choices=["default"], help="drop the organization's own policy")
    _tier_options(keep)

    schedule = _command(
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


def _retention(top: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = _group(top, "retention", "see and apply what retention keeps")
    preview = _command(
        group,
        "preview",
        commands.retention_preview,
        "list a system's backups with what keeps each (kept_by; - = would be pruned) under the policy in force, "
        "or with the --keep-* options given changing it; nothing is changed",
    )
    preview.add_argument("key", metavar="KEY")
    _tier_options(preview)
    apply = _command(
        group, "apply", commands.retention_apply, "prune now what the policies in force keep no more, with each rule"
    )
    apply.add_argument("--org", metavar="ORG_ID", help="only this organization's systems")


def _systems(top: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    system = _group(top, "system", "manage systems (appliances)")
    create = _command(system, "create", commands.system_create, "create a system; prints its secret once")
    create.add_argument("--org", required=True, metavar="ORG_ID", help="the organization's id")
    create.add_argument("--key", metavar="KEY", help="system key (default: generated)")
    listing = _command(system, "list", commands.system_list, "list systems with their backups at a glance")
    listing.add_argument("--org", metavar="ORG_ID", help="only this organization's systems")
    for name, handler, help_text in (
        ("show", commands.system_show, "show one system with its caps"),
        ("rotate-secret", commands.system_rotate_secret, "give a system a new secret (shown once); the old one fails"),
        ("suspend", commands.system_suspend, "refuse a system's credentials (401) until it is resumed"),
        ("resume", commands.system_resume, "accept a suspended system's credentials again"),
    ):
        _command(system, name, handler, help_text).add_argument("key", metavar="KEY")
    schedule = _command(
        system, "set-schedule", commands.system_set_schedule, "set how often a system must store a backup"
    )
    schedule.add_argument("key", metavar="KEY")
    _schedule_options(schedule, "its organization's schedule")
    destroy = _command(
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


def _log(top: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = _group(top, "log", "the event log: what was done to what the service holds")
    show = _command(group, "show", log.log_show, "print the log's entries, oldest first, one JSON object a line")
    show.add_argument("--system", metavar="KEY", help="only this system's entries")
    show.add_argument(
        "--since", metavar="D", help="only entries from then on: a duration back from now (36h, 2d) or an RFC 3339 date"
    )
    show.add_argument("--type", metavar="T", help="only entries of this type, e.g. backup.stored")
    _command(group, "checkpoint", log.log_checkpoint, "sign a checkpoint of the log now and print the latest one")
    _command(
        group,
        "verify",
        log.log_verify,
        "re-hash every entry and check every signed checkpoint; exit 1 naming the first bad seq",
    )
    keygen = group.add_parser(
        "keygen",
        help="make a new Ed25519 signer key for the log (C2SP signed-note format) and print its verifier key",
        description="make a new Ed25519 signer key for the log (C2SP signed-note format) and print its verifier key",
    )
    keygen.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write it (never overwritten)")
    keygen.add_argument("--name", metavar="NAME", help="the key's name (default: BACKUP_LOG_ORIGIN)")


def _backups(top: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = _group(top, "backup", "list, download and delete a system's backups")
    listing = _command(backup, "list", commands.backup_list, "list a system's backups, newest first")
    listing.add_argument("key", metavar="KEY")
    get = _command(
        backup,
        "get",
        commands.backup_get,
        "download a backup and verify its sha256; on a mismatch no file is left and the exit status is 1",
    )
    get.add_argument("key", metavar="KEY")
    get.add_argument("id", metavar="ID")
    get.add_argument(
        "-o", "--output", metavar="FILE", help="where to write it (default: its download name in the current directory)"
    )
    delete = _command(backup, "delete", commands.backup_delete, "delete a backup (refused while it is protected)")
    delete.add_argument("key", metavar="KEY")
    delete.add_argument("id", metavar="ID")
    protect = _command(
        backup,
        "protect",
        commands.backup_protect,
        "never prune nor delete this backup until unprotected (at most BACKUP_MAX_PROTECTED_PER_SYSTEM per system)",
    )
    protect.add_argument("key", metavar="KEY")
    protect.add_argument("id", metavar="ID")
    protect.add_argument("--note", metavar="TEXT", help="why it is kept, shown with it")
    unprotect = _command(backup, "unprotect", commands.backup_unprotect, "let retention and deletes take it again")
    unprotect.add_argument("key", metavar="KEY")
    unprotect.add_argument("id", metavar="ID")


def _webhooks(top: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hook = _group(top, "webhook", "where alerts are sent: add, list, remove, test webhooks, see their deliveries")
    add = _command(hook, "add", commands.webhook_add, "add a webhook; prints its signing secret once")
    add.add_argument("url", metavar="URL", help="http:// or https:// address of the receiver")
    add.add_argument("--org", metavar="ORG_ID", help="only this organization's events (default: every one)")
    add.add_argument(
        "--events",
        metavar="a,b",
        help="comma-separated: system.down, system.failing, system.recovered, backup.size_anomaly, "
        "org.quota_near, backup.verify_failed (default: all)",
    )
    add.add_argument(
        "--format",
        default="standard",
        metavar="FORMAT",
        help="standard (signed JSON), slack or ntfy (default: standard)",
    )
    _command(hook, "list", commands.webhook_list, "list webhooks (without their secrets)")
    for name, handler, help_text in (
        ("remove", commands.webhook_remove, "remove a webhook and its pending deliveries"),
        ("test", commands.webhook_test, "send a `test` event to this webhook (at the notifier's next pass)"),
        ("deliveries", commands.webhook_deliveries, "a webhook's deliveries, newest first: state, tries, last answer"),
    ):
        _command(hook, name, handler, help_text).add_argument("id", metavar="ID")
