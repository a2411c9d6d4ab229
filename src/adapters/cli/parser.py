"""The command line's grammar. Every `--help` here is what the command does."""

from __future__ import annotations

import argparse

from adapters.cli import commands, log
from adapters.cli.fleet_grammar import add_orgs, add_retention, add_systems
from adapters.cli.grammar import Subcommands, command, command_group


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
    add_orgs(top)
    add_systems(top)
    _webhooks(top)
    report = command(
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
    scrub = command(
        top,
        "verify",
        log.verify,
        "re-read every stored object now at BACKUP_VERIFY_RATE and check size and sha256; exit 1 on a mismatch "
        "or a missing object (nothing is removed)",
    )
    scrub.add_argument("--system", metavar="KEY", help="only this system's backups")
    receipt = command_group(top, "receipt", "check a backup's signed receipt offline")
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
    add_retention(top)

    stale = command(
        top,
        "stale",
        commands.stale,
        "systems whose newest backup is older than DURATION (or none); default: the down ones",
    )
    stale.add_argument("--older-than", metavar="DURATION", help="a whole number and a unit of s m h d w: 90m, 36h, 2d")
    check = command(
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


def _log(top: Subcommands) -> None:
    group = command_group(top, "log", "the event log: what was done to what the service holds")
    show = command(group, "show", log.log_show, "print the log's entries, oldest first, one JSON object a line")
    show.add_argument("--system", metavar="KEY", help="only this system's entries")
    show.add_argument(
        "--since", metavar="D", help="only entries from then on: a duration back from now (36h, 2d) or an RFC 3339 date"
    )
    show.add_argument("--type", metavar="T", help="only entries of this type, e.g. backup.stored")
    command(group, "checkpoint", log.log_checkpoint, "sign a checkpoint of the log now and print the latest one")
    command(
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


def _backups(top: Subcommands) -> None:
    backup = command_group(top, "backup", "list, download and delete a system's backups")
    listing = command(backup, "list", commands.backup_list, "list a system's backups, newest first")
    listing.add_argument("key", metavar="KEY")
    get = command(
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
    delete = command(backup, "delete", commands.backup_delete, "delete a backup (refused while it is protected)")
    delete.add_argument("key", metavar="KEY")
    delete.add_argument("id", metavar="ID")
    protect = command(
        backup,
        "protect",
        commands.backup_protect,
        "never prune nor delete this backup until unprotected (at most BACKUP_MAX_PROTECTED_PER_SYSTEM per system)",
    )
    protect.add_argument("key", metavar="KEY")
    protect.add_argument("id", metavar="ID")
    protect.add_argument("--note", metavar="TEXT", help="why it is kept, shown with it")
    unprotect = command(backup, "unprotect", commands.backup_unprotect, "let retention and deletes take it again")
    unprotect.add_argument("key", metavar="KEY")
    unprotect.add_argument("id", metavar="ID")


def _webhooks(top: Subcommands) -> None:
    hook = command_group(
        top, "webhook", "where alerts are sent: add, list, remove, test webhooks, see their deliveries"
    )
    add = command(hook, "add", commands.webhook_add, "add a webhook; prints its signing secret once")
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
    command(hook, "list", commands.webhook_list, "list webhooks (without their secrets)")
    for name, handler, help_text in (
        ("remove", commands.webhook_remove, "remove a webhook and its pending deliveries"),
        ("test", commands.webhook_test, "send a `test` event to this webhook (at the notifier's next pass)"),
        ("deliveries", commands.webhook_deliveries, "a webhook's deliveries, newest first: state, tries, last answer"),
    ):
        command(hook, name, handler, help_text).add_argument("id", metavar="ID")
