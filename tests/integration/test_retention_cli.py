"""Retention's operator commands through `main()` in this process: org set-retention, retention preview and
apply, backup protect and unprotect, system destroy --include-protected; their JSON and their one-line errors."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from app.settings import Settings
from tests.integration.live import Tenant, client, live_server, operator_env, provision
from tests.unit.fakes import pgp

UPLOAD = "/api/systems/backups"
DEFAULT = {"keep_last": 10, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return operator_env(tmp_path / "data", monkeypatch, rate_limit_per_minute="0", rate_limit_per_hour="0")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, list[str]]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, [line for line in err.splitlines() if line.startswith("backup-collect:")]


def ok(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def uploads(settings: Settings, tenant: Tenant, count: int) -> list[str]:
    with live_server(settings) as server, client(server, tenant) as http:
        return [http.post(UPLOAD, content=pgp(1000)).json()["data"]["id"] for _ in range(count)]


def test_an_org_gets_its_own_policy_and_back_the_default(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    tenant = provision(env)[0]
    shown = ok(capsys, "org", "show", tenant.org_id)
    assert (shown["retention"], shown["retention_override"]) == (DEFAULT, None)
    changed = ok(capsys, "org", "set-retention", tenant.org_id, "--keep-last", "3", "--keep-daily", "7")
    own = {"keep_last": 3, "keep_daily": 7, "keep_weekly": 0, "keep_monthly": 0}
    assert changed["retention"] == changed["retention_override"] == own
    # The options given change the policy in force; the others keep their values.
    again = ok(capsys, "org", "set-retention", tenant.org_id, "--keep-weekly", "0")
    assert again["retention"] == own
    assert ok(capsys, "org", "set-retention", tenant.org_id, "default")["retention_override"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--keep-daily", "-1"), "retention: --keep-daily must be a whole number"),
        (("--keep-weekly", "1.5"), "retention: --keep-weekly must be a whole number"),
        (("--keep-last", "0"), "retention: keep_last must be at least 1"),
        (("--keep-daily", "1"), "exceeds BACKUP_MAX_PER_SYSTEM (10)"),
    ],
)
def test_a_bad_policy_is_one_line_exit_1_and_changes_nothing(
    env: Settings, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    tenant = provision(env)[0]
    code, out, [line] = run(capsys, "org", "set-retention", tenant.org_id, *args)
    assert (code, out) == (1, "")
    assert message in line
    assert ok(capsys, "org", "show", tenant.org_id)["retention_override"] is None
    code, _, [line] = run(capsys, "retention", "preview", tenant.key, *args)
    assert code == 1
    assert message in line


def test_preview_changes_nothing_and_apply_prunes_with_rules(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    tenant = provision(env)[0]
    ids = uploads(env, tenant, 4)
    preview = ok(capsys, "retention", "preview", tenant.key, "--keep-last", "2")
    assert preview["policy"] == {**DEFAULT, "keep_last": 2}
    assert [(b["id"], b["kept_by"]) for b in preview["backups"]] == [
        (ids[3], "last"),
        (ids[2], "last"),
        (ids[1], None),
        (ids[0], None),
    ]
    assert ok(capsys, "retention", "apply")["pruned"] == []
    ok(capsys, "backup", "protect", tenant.key, ids[0], "--note", "keep me")
    ok(capsys, "org", "set-retention", tenant.org_id, "--keep-last", "2")
    applied = ok(capsys, "retention", "apply", "--org", tenant.org_id)
    assert applied == {"pruned": [{"system_key": tenant.key, "id": ids[1], "rule": "last"}]}
    listed = ok(capsys, "backup", "list", tenant.key)
    assert [(b["id"], b["protected"], b["protected_note"]) for b in listed] == [
        (ids[3], False, None),
        (ids[2], False, None),
        (ids[0], True, "keep me"),
    ]
    code, _, [line] = run(capsys, "retention", "apply", "--org", "nope")
    assert code == 1
    assert "organization nope not found" in line


def test_protected_backups_refuse_delete_and_destroy_without_consent(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = provision(env)[0]
    ids = uploads(env, tenant, 5)
    for backup_id in ids[:3]:
        assert ok(capsys, "backup", "protect", tenant.key, backup_id)["protected"] is True
    code, _, [line] = run(capsys, "backup", "protect", tenant.key, ids[3])
    assert code == 1
    assert "protected: the system has 3 protected backups already" in line
    code, _, [line] = run(capsys, "backup", "delete", tenant.key, ids[0])
    assert code == 1
    assert "protected:" in line
    code, _, [line] = run(capsys, "system", "destroy", tenant.key, "--yes")
    assert code == 1
    assert "protected:" in line
    assert len(ok(capsys, "backup", "list", tenant.key)) == 5
    freed = ok(capsys, "backup", "unprotect", tenant.key, ids[0])
    assert (freed["protected"], freed["protected_note"]) == (False, None)
    assert ok(capsys, "backup", "delete", tenant.key, ids[0]) == {"id": ids[0]}
    destroyed = ok(capsys, "system", "destroy", tenant.key, "--yes", "--include-protected")
    assert destroyed == {"system_key": tenant.key, "deleted_objects": 4}


def test_a_default_policy_past_the_slot_cap_stops_the_process(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    os.environ["BACKUP_KEEP_DAILY"] = "3"
    try:
        code, _, [line] = run(capsys, "org", "list")
    finally:
        del os.environ["BACKUP_KEEP_DAILY"]
    assert code == 1
    assert line.startswith("backup-collect: BACKUP_KEEP_*: ")
