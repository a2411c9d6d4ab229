"""`log show` through the real command line, on the embedded default: JSON lines of what the server and
the CLI did, filtered; a bad --since or --type is a usage error (exit 2)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from adapters.runtime.logkey import Ed25519Signer
from tests.independent import open_signed_note, parse_checkpoint
from tests.integration.live import client, live_server, provision, settings_for
from tests.integration.test_operator_cli import CLI, cli, uploaded
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


def test_log_checkpoint_signs_and_log_verify_finds_an_edited_row(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    provision(settings_for(data_dir), systems=2)
    made = cli(data_dir, "log", "checkpoint", "--json")
    assert made.returncode == 0, made.stderr
    checkpoint = json.loads(made.stdout)
    # The embedded default made its key in the data dir.
    vkey = Ed25519Signer.parse((data_dir / "log.key").read_text()).verifier().text()
    _, size, _ = parse_checkpoint(open_signed_note(checkpoint["checkpoint"], vkey))
    assert size == checkpoint["tree_size"] == 3
    verified = cli(data_dir, "log", "verify", "--json")
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout)["ok"] is True
    with sqlite3.connect(data_dir / "backups.db") as db:
        db.execute("UPDATE event_log SET actor = 'appliance' WHERE seq = 1")
    broken = cli(data_dir, "log", "verify", "--json")
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["first_bad_seq"] == 1


def test_log_keygen_writes_a_key_once_and_serve_refuses_a_missing_one(tmp_path: Path) -> None:
    key = tmp_path / "log.key"
    made = cli(tmp_path / "data", "log", "keygen", "-o", str(key), "--name", "example.org/log")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("example.org/log+")
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    again = cli(tmp_path / "data", "log", "keygen", "-o", str(key))
    assert again.returncode == 1
    assert "exists already" in again.stderr
    env = {**os.environ, "BACKUP_DATA_DIR": str(tmp_path / "data"), "BACKUP_LOG_KEY_FILE": str(tmp_path / "none")}
    refused = subprocess.run(
        [*CLI, "serve", "--port", "1"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert refused.returncode == 1
    lines = [line for line in refused.stderr.splitlines() if "BACKUP_LOG_KEY_FILE" in line]
    assert len(lines) == 1
    assert "cannot read it" in lines[0]


def test_verify_rereads_every_object_now_and_exits_1_on_a_corrupt_or_missing_one(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = settings_for(data_dir)
    tenant, _ = provision(settings, systems=2)
    ids = uploaded(settings, tenant, pgp(1000), pgp(2000), pgp(3000))
    clean = cli(data_dir, "verify", "--json")
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout) == {"ok": True, "verified": 3, "bytes_read": 6000, "failures": []}
    files = {p.name: p for p in (data_dir / "objects").rglob("*") if p.is_file()}
    files[ids[0]].write_bytes(b"\x85" + bytes(999))
    files[ids[1]].unlink()
    found = cli(data_dir, "verify", "--system", tenant.key, "--json")
    assert found.returncode == 1
    failures = {f["id"]: f["result"] for f in json.loads(found.stdout)["failures"]}
    assert failures == {ids[0]: "mismatch", ids[1]: "missing"}
    assert [b["id"] for b in json.loads(cli(data_dir, "backup", "list", tenant.key, "--json").stdout)] == ids[::-1]


def test_an_auditor_checks_a_receipt_and_its_proof_from_a_real_server_offline(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = settings_for(data_dir)
    [tenant] = provision(settings)
    with live_server(settings) as server, client(server, tenant) as http:
        answer = http.post("/api/systems/backups", content=pgp(4000), headers={"X-Filename": "fw.tar.gz.gpg"})
        assert answer.status_code == 201
        backup_id = answer.json()["data"]["id"]
        assert http.get(f"/api/systems/backups/{backup_id}/proof").status_code in (200, 404)
        assert cli(data_dir, "log", "checkpoint").returncode == 0
        proof = http.get(f"/api/systems/backups/{backup_id}/proof")
        vkey = http.get("/api/log/public-key").text
    assert proof.status_code == 200
    receipt_file, proof_file, key_file = tmp_path / "receipt", tmp_path / "proof.json", tmp_path / "log.pub"
    receipt_file.write_text(answer.headers["Backup-Receipt"])
    proof_file.write_text(proof.text)
    key_file.write_text(vkey)
    checked = cli(
        tmp_path / "elsewhere",
        "receipt",
        "verify",
        str(receipt_file),
        "--public-key",
        str(key_file),
        "--proof",
        str(proof_file),
    )
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["receipt"]["backup_id"] == backup_id
    assert not (tmp_path / "elsewhere").exists()  # offline: no data dir, no database
    other_key = tmp_path / "other.pub"
    other_key.write_text(Ed25519Signer.generate(settings.log_origin).verifier().text())
    refused = cli(tmp_path / "elsewhere", "receipt", "verify", str(receipt_file), "--public-key", str(other_key))
    assert refused.returncode == 1
    assert "receipt" in refused.stderr
