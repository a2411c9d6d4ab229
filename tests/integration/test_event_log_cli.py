"""`log show` through the real command line, on the embedded default: JSON lines of what the server and
the CLI did, filtered; a bad --since or --type is a usage error (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.live import provision, settings_for
from tests.integration.test_operator_cli import cli, uploaded
from tests.unit.fakes import pgp


def lines(data_dir: Path, *args: str) -> list[dict[str, object]]:
    result = cli(data_dir, "log", "show", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_log_show_prints_what_the_server_and_the_cli_did_as_json_lines(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = settings_for(data_dir)
    tenant, other = provision(settings, systems=2)
    [backup_id] = uploaded(settings, tenant, pgp(1000))
    assert cli(data_dir, "backup", "delete", tenant.key, backup_id).returncode == 0
    every = lines(data_dir)
    assert [e["seq"] for e in every] == list(range(len(every)))
    assert [e["type"] for e in every][-2:] == ["backup.stored", "backup.deleted"]
    deleted = every[-1]
    assert (deleted["backup_id"], deleted["actor"], deleted["detail"]) == (backup_id, "operator", {"via": "cli"})
    mine = lines(data_dir, "--system", tenant.key)
    assert {e["system_key"] for e in mine} == {tenant.key}
    assert [e["type"] for e in lines(data_dir, "--type", "system.created")] == ["system.created"] * 2
    assert lines(data_dir, "--since", "1h") == every
    assert lines(data_dir, "--since", "2999-01-01") == []
    assert other.key not in json.dumps(mine)


@pytest.mark.parametrize(("flag", "value"), [("--type", "backup.eaten"), ("--since", "last tuesday")])
def test_a_bad_filter_is_a_usage_error(tmp_path: Path, flag: str, value: str) -> None:
    result = cli(tmp_path / "data", "log", "show", flag, value)
    assert result.returncode == 2
    assert flag in result.stderr
    assert result.stdout == ""
