"""The `backup-collect` command: what only a real process shows (exit on a bad setting, `--help`'s speed,
`serve`) as a real process; the JSON shapes, the error lines and the new data dir's notice through
`main()` in this process, on the same embedded default (each process would cost seconds of imports)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from adapters.sql.migrate import MIGRATIONS
from app.cli import main
from tests.integration.live import serving
from tests.unit.fakes import pgp

CLI = [sys.executable, "-m", "app.cli"]


def cli(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "BACKUP_DATA_DIR": str(data_dir), **env}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=environment, timeout=60, check=False)


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Ran]:
    """`main(args)` in this process with BACKUP_DATA_DIR=`data_dir`: what `cli` returns, without the process."""

    def run(data_dir: Path, *args: str) -> Ran:
        monkeypatch.setenv("BACKUP_DATA_DIR", str(data_dir))
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return Ran(code, out, err)

    return run


def test_org_and_system_create_print_the_spec_json(tmp_path: Path, run_cli: Callable[..., Ran]) -> None:
    org = run_cli(tmp_path, "org", "create", "Acme", "--json")
    assert org.returncode == 0, org.stderr
    created = json.loads(org.stdout)
    assert set(created) == {"id", "name", "quota_bytes"}
    assert created["name"] == "Acme"
    assert created["quota_bytes"] is None

    quota = json.loads(run_cli(tmp_path, "org", "create", "Beta", "--quota", "2GiB", "--json").stdout)
    assert quota["quota_bytes"] == 2 * 1024**3
    assert json.loads(run_cli(tmp_path, "org", "create", "Free", "--quota", "0", "--json").stdout)["quota_bytes"] == 0

    system = run_cli(tmp_path, "system", "create", "--org", created["id"], "--key", "fw-1", "--json")
    assert system.returncode == 0, system.stderr
    data = json.loads(system.stdout)
    assert set(data) == {"system_key", "system_secret", "org_id"}
    assert data["system_key"] == "fw-1"
    assert data["org_id"] == created["id"]
    assert len(data["system_secret"]) >= 32

    generated = json.loads(run_cli(tmp_path, "system", "create", "--org", created["id"], "--json").stdout)
    assert generated["system_key"] != "fw-1"


def test_human_output_shows_the_secret_once_warning(tmp_path: Path, run_cli: Callable[..., Ran]) -> None:
    org_id = json.loads(run_cli(tmp_path, "org", "create", "Acme", "--json").stdout)["id"]
    shown = run_cli(tmp_path, "system", "create", "--org", org_id)
    assert shown.returncode == 0
    assert "shown only this once" in shown.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("system", "create", "--org", "nope"), "organization nope not found"),
        (("org", "create", "  "), "name"),
    ],
)
def test_operator_errors_are_one_line_and_exit_1(
    tmp_path: Path, run_cli: Callable[..., Ran], args: tuple[str, ...], message: str
) -> None:
    result = run_cli(tmp_path, *args)
    assert result.returncode == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_duplicate_system_key_is_refused(tmp_path: Path, run_cli: Callable[..., Ran]) -> None:
    org_id = json.loads(run_cli(tmp_path, "org", "create", "Acme", "--json").stdout)["id"]
    assert run_cli(tmp_path, "system", "create", "--org", org_id, "--key", "fw").returncode == 0
    again = run_cli(tmp_path, "system", "create", "--org", org_id, "--key", "fw")
    assert again.returncode == 1
    assert "fw" in again.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert cli(tmp_path, "org").returncode == 2
    assert cli(tmp_path, "frobnicate").returncode == 2


@pytest.mark.parametrize("command", [("migrate",), ("serve",)])
def test_a_bad_setting_stops_with_one_line_naming_it(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = cli(tmp_path, *command, BACKUP_MAX_UPLOAD_SIZE="2GB")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "backup-collect: BACKUP_MAX_UPLOAD_SIZE: '2GB' is not a size: use bytes or IEC units (KiB, MiB, GiB, TiB)"
    ]


def test_migrate_says_it_created_a_new_schema_and_then_that_it_is_up_to_date(tmp_path: Path) -> None:
    versions = sorted(p.name[1:5] for p in MIGRATIONS.joinpath("versions").glob("r[0-9][0-9][0-9][0-9]_*.py"))
    created = cli(tmp_path, "migrate")
    assert (created.returncode, created.stdout.strip()) == (
        0,
        f"schema created at revision {versions[-1]} ({len(versions)} migrations applied: {', '.join(versions)})",
    )
    again = cli(tmp_path, "migrate")
    assert (again.returncode, again.stdout.strip()) == (0, "schema is up to date")
    assert (tmp_path / "backups.db").exists()


def test_help_answers_within_a_second_without_loading_the_service(tmp_path: Path) -> None:
    # The fastest of three runs, so a busy machine's one slow start does not decide it.
    took = []
    for _ in range(3):
        started = time.monotonic()
        shown = cli(tmp_path / "unused", "--help")
        took.append(time.monotonic() - started)
        assert shown.returncode == 0
        assert "org" in shown.stdout
    assert min(took) < 1.0, took
    # What made it slow: the database, migration, object-store and Redis libraries, none needed for help.
    traced = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "app.cli", "--help"], capture_output=True, text=True, check=True
    )
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in traced.stderr.splitlines()}
    assert imported.isdisjoint({"sqlalchemy", "alembic", "coredis", "obstore", "litestar", "uvicorn"})
    assert not (tmp_path / "unused").exists()


def test_a_run_that_creates_a_new_data_dir_says_so_with_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    def org_list(**env: str) -> tuple[int, str, str]:
        for name, value in {"BACKUP_DATA_DIR": "var", **env}.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = main(["org", "list", "--json"])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = org_list()
    assert code == 0, err
    assert err.splitlines() == [
        f"backup-collect: {tmp_path.resolve() / 'var'} does not exist: creating a new, empty data dir"
    ]
    assert json.loads(out) == []
    assert org_list()[::2] == (0, "")
    # A data dir the settings do not use (database and objects elsewhere) is not announced.
    quiet = org_list(
        BACKUP_DATA_DIR="other",
        BACKUP_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/x.db",
        BACKUP_STORAGE_URL=f"file://{tmp_path}/objects",
    )
    assert quiet[::2] == (0, "")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    with serving({**os.environ, "BACKUP_DATA_DIR": str(tmp_path / "data")}, tmp_path / "serve.log") as server:
        yield server.url


def test_serve_creates_the_embedded_default_and_accepts_an_upload(tmp_path: Path, served: str) -> None:
    data_dir = tmp_path / "data"
    org_id = json.loads(cli(data_dir, "org", "create", "Acme", "--json").stdout)["id"]
    system = json.loads(cli(data_dir, "system", "create", "--org", org_id, "--key", "fw-1", "--json").stdout)
    body = pgp(300_000)
    answer = httpx.post(
        served + "/api/systems/backups",
        content=body,
        auth=("fw-1", system["system_secret"]),
        headers={"X-Filename": "daily-backup-2026-04-12.tar.gz.gpg"},
    )
    assert answer.status_code == 201, answer.text
    backup_id = answer.json()["data"]["id"]
    assert (data_dir / "objects" / org_id / "fw-1" / backup_id).read_bytes() == body
    assert (data_dir / "backups.db").exists()
