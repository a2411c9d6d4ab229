"""The operator commands of `backup-collect`: a few broad runs as real processes (each costs seconds),
and the credential lifecycle, the many error paths and `--help` texts through `main()` in this process."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.cli.parser import build_parser
from adapters.cli.progress import Progress
from app.cli import main
from app.settings import Settings
from tests.integration.live import Tenant, client, live_server, object_files, operator_env, provision, settings_for
from tests.unit.fakes import pgp

CLI = [sys.executable, "-m", "app.cli"]
UPLOAD = "/api/systems/backups"


def cli(data_dir: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "BACKUP_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=environment, timeout=60, check=False, cwd=cwd
    )


def ok_json(data_dir: Path, *args: str, cwd: Path | None = None) -> Any:
    result = cli(data_dir, *args, "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@dataclass
class InProcess:
    """`cli` and `ok_json` through `main()` in this process (no interpreter start, no imports paid again)."""

    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def run(self, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
        self.monkeypatch.setenv("BACKUP_DATA_DIR", str(data_dir))
        self.capsys.readouterr()
        code = main(list(args))
        out, err = self.capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out, err)

    def json(self, data_dir: Path, *args: str) -> Any:
        result = self.run(data_dir, *args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> InProcess:
    return InProcess(monkeypatch, capsys)


def uploaded(settings: Settings, tenant: Tenant, *bodies: bytes) -> list[str]:
    with live_server(settings) as server, client(server, tenant) as http:
        ids = []
        for body in bodies:
            answer = http.post(UPLOAD, content=body, headers={"X-Filename": "fw.tar.gz.gpg"})
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["data"]["id"])
        return ids


def test_an_operator_watches_orgs_and_systems_and_restores_a_backup(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = settings_for(data_dir)
    tenant, idle = provision(settings, systems=2)
    body = pgp(200_000)
    older, newest = uploaded(settings, tenant, pgp(1000), body)

    [org] = ok_json(data_dir, "org", "list")
    assert org == {"id": tenant.org_id, "name": "acme", "quota_bytes": None, "used_bytes": 201_000, "systems": 2}
    assert ok_json(data_dir, "org", "set-quota", tenant.org_id, "1GiB") == {
        "id": tenant.org_id,
        "name": "acme",
        "quota_bytes": 1 << 30,
        "effective_quota_bytes": 1 << 30,
        "used_bytes": 201_000,
        "systems": 2,
        "retention": {"keep_last": 10, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0},
        "retention_override": None,
    }
    shown = cli(data_dir, "org", "set-quota", tenant.org_id, "default")
    assert shown.returncode == 0
    assert "effective_quota_bytes" in shown.stdout
    assert "100 GiB" in shown.stdout

    systems = ok_json(data_dir, "system", "list", "--org", tenant.org_id)
    assert [s["system_key"] for s in systems] == sorted([tenant.key, idle.key])
    mine = next(s for s in systems if s["system_key"] == tenant.key)
    assert (mine["backups"], mine["total_size"], mine["suspended"]) == (2, 201_000, False)
    table = cli(data_dir, "system", "list")
    assert table.stdout.splitlines()[0].split() == [
        "SYSTEM_KEY",
        "ORG_ID",
        "SUSPENDED",
        "BACKUPS",
        "TOTAL_SIZE",
        "LAST_BACKUP_AT",
        "STATE",
        "EXPECTED_EVERY",
        "GRACE",
        "LAST_ATTEMPT_AT",
        "LAST_ERROR",
    ]
    rows = {line.split()[0]: line.split() for line in table.stdout.splitlines()[1:]}
    assert rows[tenant.key][-5:-2] == ["up", "1d", "12h"]
    assert rows[idle.key][-5:] == ["new", "1d", "12h", "-", "-"]

    listed = ok_json(data_dir, "backup", "list", tenant.key)
    assert [b["id"] for b in listed] == [newest, older]
    operator = {"uploader_ip", "protected", "protected_note"}
    assert set(listed[0]) == {"id", "filename", "size", "sha256", "mimetype", "uploaded_at", *operator}
    assert listed[0]["uploader_ip"] == "127.0.0.1"  # the test client's address: no proxy in between

    work = tmp_path / "work"
    work.mkdir()
    got = ok_json(data_dir, "backup", "get", tenant.key, newest, cwd=work)
    assert got["path"] == str(work / "fw.tar.gz.gpg")
    assert (work / "fw.tar.gz.gpg").read_bytes() == body
    assert got["sha256"] == hashlib.sha256(body).hexdigest()
    assert sorted(p.name for p in work.iterdir()) == ["fw.tar.gz.gpg"]
    target = tmp_path / "restored.gpg"
    assert cli(data_dir, "backup", "get", tenant.key, newest, "-o", str(target)).returncode == 0
    assert target.read_bytes() == body

    assert ok_json(data_dir, "stale", "--older-than", "36h") == [
        {"system_key": idle.key, "org_id": tenant.org_id, "last_backup_at": None}
    ]
    assert ok_json(data_dir, "backup", "delete", tenant.key, older) == {"id": older}
    assert [b["id"] for b in ok_json(data_dir, "backup", "list", tenant.key)] == [newest]


def test_credentials_are_rotated_suspended_and_a_system_destroyed(tmp_path: Path, in_process: InProcess) -> None:
    """Through `main()` in this process: the broad run above is the real-process witness."""
    data_dir = tmp_path / "data"
    settings = settings_for(data_dir)
    tenant, neighbour = provision(settings, systems=2)
    uploaded(settings, tenant, pgp(1000), pgp(1000))
    uploaded(settings, neighbour, pgp(500))

    rotated = in_process.json(data_dir, "system", "rotate-secret", tenant.key)
    assert set(rotated) == {"system_key", "system_secret"}
    assert rotated["system_secret"] != tenant.secret
    assert in_process.json(data_dir, "system", "suspend", tenant.key) == {"system_key": tenant.key, "suspended": True}
    detail = in_process.json(data_dir, "system", "show", tenant.key)
    assert detail["suspended"] is True
    assert (detail["max_count"], detail["max_total_size"]) == (10, 500 * 1024 * 1024)
    assert in_process.json(data_dir, "system", "resume", tenant.key) == {"system_key": tenant.key, "suspended": False}
    with live_server(settings) as server:
        fresh = Tenant(tenant.org_id, tenant.key, rotated["system_secret"])
        with client(server, tenant) as http:
            assert http.get(UPLOAD).status_code == 401
        with client(server, fresh) as http:
            assert http.get(UPLOAD).status_code == 200

    refused = in_process.run(data_dir, "system", "destroy", tenant.key)
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    assert len(object_files(settings)) == 3
    assert in_process.json(data_dir, "system", "destroy", tenant.key, "--yes") == {
        "system_key": tenant.key,
        "deleted_objects": 2,
    }
    assert len(object_files(settings)) == 1
    gone = in_process.run(data_dir, "system", "show", tenant.key)
    assert (gone.returncode, gone.stderr) == (1, f"backup-collect: system {tenant.key} not found\n")


def test_a_download_whose_sha256_differs_leaves_no_file_and_exits_1(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = settings_for(data_dir)
    tenant = provision(settings)[0]
    [backup_id] = uploaded(settings, tenant, pgp(5000))
    [stored] = object_files(settings)
    stored.write_bytes(b"\x85" + b"\x00" * 4999)  # same size, other bytes
    work = tmp_path / "work"
    work.mkdir()
    result = cli(data_dir, "backup", "get", tenant.key, backup_id, cwd=work)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "sha256" in result.stderr
    assert list(work.iterdir()) == []


# --- in this process: error paths and help texts ---------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return operator_env(tmp_path / "data", monkeypatch)


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def ours(err: str) -> list[str]:
    """Our lines on stderr: an in-process server started earlier may have configured logging there."""
    return [line for line in err.splitlines() if line.startswith("backup-collect:")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("org", "show", "nope"), "organization nope not found"),
        (("org", "set-quota", "nope", "1GiB"), "organization nope not found"),
        (("system", "list", "--org", "nope"), "organization nope not found"),
        (("system", "show", "nope"), "system nope not found"),
        (("system", "rotate-secret", "nope"), "system nope not found"),
        (("system", "suspend", "nope"), "system nope not found"),
        (("system", "resume", "nope"), "system nope not found"),
        (("system", "destroy", "nope", "--yes"), "system nope not found"),
        (("backup", "list", "nope"), "system nope not found"),
        (("backup", "get", "KEY", "not-an-id"), "id: not a backup id"),
        (("backup", "get", "KEY", "01900000-0000-7000-8000-000000000000.bin"), "not found"),
        (("backup", "delete", "KEY", "01900000-0000-7000-8000-000000000000.bin"), "not found"),
        (("backup", "delete", "KEY", "../x"), "id: not a backup id"),
    ],
)
def test_operator_errors_are_one_line_and_exit_1(
    env: Settings, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    tenant = provision(env)[0]
    args = tuple(tenant.org_id if a == "ORG" else tenant.key if a == "KEY" else a for a in args)
    code, out, err = run_main(capsys, *args)
    assert code == 1
    assert out == ""
    [line] = ours(err)
    assert message in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("org", "set-quota", "ORG", "lots"), "SIZE: 'lots' is not a size"),
        (("org", "set-quota", "ORG", "-1"), "is not a size"),
        (("org", "set-quota", "ORG", "99999999TiB"), "is too large"),
        (("org", "create", "big", "--quota", "2GB"), "--quota: '2GB' is not a size"),
        (("stale", "--older-than", "3 days"), "--older-than: '3 days' is not a duration"),
        (("stale", "--older-than", "99999999999999w"), "--older-than: '99999999999999w' is too long"),
    ],
)
def test_a_malformed_option_value_is_a_usage_error(
    env: Settings, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    tenant = provision(env)[0]
    args = tuple(tenant.org_id if a == "ORG" else a for a in args)
    code, out, err = run_main(capsys, *args)
    assert code == 2
    assert out == ""
    [line] = ours(err)
    assert message in line


def test_a_download_into_a_missing_directory_is_one_line_and_exit_1(
    env: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tenant = provision(env)[0]
    [backup_id] = uploaded(env, tenant, pgp(100))
    target = tmp_path / "missing" / "out.gpg"
    code, out, err = run_main(capsys, "backup", "get", tenant.key, backup_id, "-o", str(target))
    assert (code, out) == (1, "")
    # The in-process server above configured logging; only our own line counts here.
    assert ours(err) == [f"backup-collect: {target.parent} is not a directory"]
    assert not target.parent.exists()


def test_destroy_without_yes_is_a_usage_error_and_erases_nothing(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = provision(env)[0]
    code, _, err = run_main(capsys, "system", "destroy", tenant.key, "--json")
    assert code == 2
    assert ours(err) == [f"backup-collect: system destroy erases every backup of {tenant.key}: add --yes to confirm"]
    assert run_main(capsys, "system", "show", tenant.key)[0] == 0


@pytest.mark.parametrize(
    "args",
    [
        ("system", "set-schedule"),
        ("backup", "get", "KEY"),
        ("org", "set-quota", "ORG"),
        ("system", "frobnicate"),
        ("backup",),
    ],
)
def test_usage_errors_exit_2(env: Settings, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(list(args))
    assert raised.value.code == 2


def test_json_output_is_exactly_one_document(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    provision(env, systems=2)
    for args in (("org", "list"), ("system", "list"), ("stale", "--older-than", "1h")):
        code, out, _ = run_main(capsys, *args, "--json")
        assert code == 0
        assert isinstance(json.loads(out), list)
    code, out, _ = run_main(capsys, "org", "list")
    assert "QUOTA_BYTES" in out
    assert "default" in out


def _commands(parser: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for action in parser._actions:
        if hasattr(action, "choices") and isinstance(action.choices, dict):
            for name, sub in action.choices.items():
                found.append((*prefix, name))
                found.extend(_commands(sub, (*prefix, name)))
    return found


EXPECTED = {
    ("org", "create"),
    ("org", "list"),
    ("org", "show"),
    ("org", "set-quota"),
    ("org", "set-schedule"),
    ("system", "create"),
    ("system", "list"),
    ("system", "show"),
    ("system", "rotate-secret"),
    ("system", "suspend"),
    ("system", "resume"),
    ("system", "set-schedule"),
    ("system", "destroy"),
    ("backup", "list"),
    ("backup", "get"),
    ("backup", "delete"),
    ("stale",),
}


def test_every_operator_command_has_help_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    commands = set(_commands(build_parser()))
    assert commands >= EXPECTED
    for command in sorted(EXPECTED):
        with pytest.raises(SystemExit) as raised:
            build_parser().parse_args([*command, "--help"])
        assert raised.value.code == 0
        text = capsys.readouterr().out
        assert f"usage: backup-collect {' '.join(command)}" in text
        assert "--json" in text
    capsys.readouterr()


class _Terminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [True, False])
def test_the_progress_bar_is_drawn_only_on_a_terminal(tty: bool) -> None:
    stream = _Terminal(tty)
    progress = Progress("fw.tar.gz.gpg", 2048, stream)
    progress.advance(1024)
    progress.advance(1024)
    progress.close()
    drawn = stream.getvalue()
    if tty:
        assert "fw.tar.gz.gpg" in drawn
        assert "100%" in drawn
    else:
        assert drawn == ""


def test_set_schedule_gives_a_system_or_an_org_its_own_and_default_drops_it(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = provision(env)[0]
    code, out, _ = run_main(capsys, "org", "set-schedule", tenant.org_id, "--every", "6h", "--grace", "0s", "--json")
    assert (code, json.loads(out)) == (0, {"id": tenant.org_id, "expected_every": 21600, "grace": 0})
    code, out, _ = run_main(capsys, "system", "set-schedule", tenant.key, "--every", "1h", "--json")
    shown = json.loads(out)
    assert (code, shown["expected_every"], shown["grace"], shown["state"]) == (0, 3600, 0, "new")
    code, out, _ = run_main(capsys, "system", "set-schedule", tenant.key, "default", "--json")
    assert json.loads(out)["expected_every"] == 21600
    code, out, _ = run_main(capsys, "stale", "--json")
    assert (code, json.loads(out)) == (0, [])  # created just now: `new`, not `down`
    for args, line in [
        ((tenant.key,), "give --every and/or --grace, or the word default (not both)"),
        ((tenant.key, "default", "--every", "1h"), "give --every and/or --grace, or the word default (not both)"),
        ((tenant.key, "--every", "0s"), "--every: must be longer than 0"),
        ((tenant.key, "--grace", "soon"), "--grace: 'soon' is not a duration"),
    ]:
        code, _, err = run_main(capsys, "system", "set-schedule", *args)
        assert code == 2
        assert ours(err)[0].startswith(f"backup-collect: {line}")
    code, _, err = run_main(capsys, "system", "set-schedule", "nope", "--every", "1h")
    assert (code, ours(err)) == (1, ["backup-collect: system nope not found"])


def test_webhook_commands_add_list_test_and_remove_and_bad_input_exits_1_naming_the_field(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = provision(env)[0]
    code, out, _ = run_main(
        capsys,
        "webhook",
        "add",
        "https://hooks.example.org/x",
        "--org",
        tenant.org_id,
        "--events",
        "system.down,system.recovered",
        "--format",
        "ntfy",
        "--json",
    )
    added = json.loads(out)
    assert code == 0
    assert set(added) == {"id", "url", "org_id", "events", "format", "secret"}
    assert (added["org_id"], added["events"], added["format"]) == (
        tenant.org_id,
        ["system.down", "system.recovered"],
        "ntfy",
    )
    code, out, _ = run_main(capsys, "webhook", "add", "https://hooks.example.org/y", "--events", "system.down,test")
    assert code == 0  # the human form shows the events as one cell (it was a traceback)
    assert any(line.split() == ["events", "system.down,test"] for line in out.splitlines()), out
    code, out, _ = run_main(capsys, "webhook", "remove", out.split()[1], "--json")
    assert code == 0
    code, out, _ = run_main(capsys, "webhook", "list", "--json")
    assert json.loads(out) == [{k: v for k, v in added.items() if k != "secret"}]
    assert added["secret"] not in out
    code, out, _ = run_main(capsys, "webhook", "test", added["id"], "--json")
    assert (code, json.loads(out)) == (0, {"id": added["id"], "queued": True})
    code, out, _ = run_main(capsys, "webhook", "deliveries", added["id"], "--json")
    assert (code, json.loads(out)) == (0, [])  # queued by the notifier of a running server, none here
    for args, key in [
        (("ftp://x.example/",), "url"),
        (("http://x.example:99999/",), "url"),
        (("http://x.example/", "--events", "system.down,nope"), "events"),
        (("http://x.example/", "--format", "teams"), "format"),
    ]:
        code, _, err = run_main(capsys, "webhook", "add", *args)
        assert code == 1
        assert ours(err)[0].startswith(f"backup-collect: {key}: "), err
    code, out, _ = run_main(capsys, "webhook", "remove", added["id"], "--json")
    assert (code, json.loads(out)) == (0, {"id": added["id"]})
    code, _, err = run_main(capsys, "webhook", "remove", added["id"])
    assert (code, ours(err)) == (1, [f"backup-collect: webhook {added['id']} not found"])


def test_report_prints_text_json_and_csv_and_refuses_a_bad_window(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = provision(env)[0]
    code, out, _ = run_main(capsys, "report", "--format", "json")
    made = json.loads(out)
    assert code == 0
    assert set(made) == {"since", "until", "orgs", "systems"}
    (line,) = made["systems"]
    assert (line["system_key"], line["state"], line["stored"], line["refused"]) == (tenant.key, "new", 0, 0)
    code, out, _ = run_main(capsys, "report", "--org", tenant.org_id, "--since", "7d", "--format", "csv")
    assert code == 0
    assert out.splitlines()[0].startswith("org_id,org_name,org_used_bytes,org_quota_bytes,system_key,state")
    assert f",{tenant.key},new," in out.splitlines()[1]
    code, out, _ = run_main(capsys, "report")
    assert code == 0
    assert "SYSTEM_KEY" in out
    code, _, err = run_main(capsys, "report", "--since", "soon")
    assert code == 2
    assert ours(err)[0].startswith("backup-collect: --since: ")
