"""Receipts and proofs through HTTP in process, checked by the independent verifier; `receipt verify`
offline (no server, no database): altered, truncated or foreign receipts and proofs exit 1 naming what failed."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from adapters.memory.clock import FrozenClock
from adapters.runtime.logkey import Ed25519Signer
from app.cli import main
from tests.independent import mth, open_signed_note, parse_checkpoint, verify_inclusion
from tests.unit.fakes import World, pgp
from tests.unit.test_console_http import START, TOKEN
from tests.unit.test_event_log_http import BEARER, basic

UPLOAD = "/api/systems/backups"


@pytest.fixture
def world() -> World:
    return World(clock=FrozenClock(START), env={"BACKUP_ADMIN_TOKEN": TOKEN})


async def test_every_upload_answer_carries_a_receipt_and_a_checkpoint_brings_its_proof(world: World) -> None:
    async with world.async_client() as http:
        org = (await http.post("/api/admin/orgs", json={"name": "acme"}, headers=BEARER)).json()["data"]
        made = await http.post(f"/api/admin/orgs/{org['id']}/systems", json={"system_key": "fw"}, headers=BEARER)
        other = await http.post(f"/api/admin/orgs/{org['id']}/systems", json={"system_key": "fw2"}, headers=BEARER)
        auth = basic("fw", made.json()["data"]["system_secret"])
        body = pgp(700)
        stored = await http.post(UPLOAD, content=body, headers={**auth, "X-Filename": "a.tar.gz.gpg"})
        again = await http.post(UPLOAD, content=body, headers={**auth, "X-Filename": "a.tar.gz.gpg"})
        backup = stored.json()["data"]
        vkey = (await http.get("/api/log/public-key")).text.strip()
        proof_path = f"{UPLOAD}/{backup['id']}/proof"
        early = await http.get(proof_path, headers=auth)
        await world.services.log.checkpointer()
        proof = (await http.get(proof_path, headers=auth)).json()["data"]
        foreign = await http.get(proof_path, headers=basic("fw2", other.json()["data"]["system_secret"]))
        events = (await http.get("/api/admin/log", headers=BEARER)).json()["data"]["events"]
    assert (stored.status_code, again.status_code, early.status_code, foreign.status_code) == (201, 200, 404, 404)
    receipt = open_signed_note(base64.b64decode(stored.headers["backup-receipt"]).decode(), vkey)
    lines = dict(line.split(" ", 1) for line in receipt.splitlines()[1:])
    assert lines == {
        "origin": world.settings.log_origin,
        "leaf_index": "3",
        "system_key": "fw",
        "backup_id": backup["id"],
        "sha256": backup["sha256"],
        "size": "700",
        "uploaded_at": backup["uploaded_at"].replace("Z", ".000000Z")
        if "." not in backup["uploaded_at"]
        else lines["uploaded_at"],
    }
    duplicate = open_signed_note(base64.b64decode(again.headers["backup-receipt"]).decode(), vkey)
    assert "leaf_index 4\n" in duplicate
    assert events[4]["type"] == "backup.duplicate"
    _, size, root = parse_checkpoint(open_signed_note(proof["checkpoint"], vkey))
    leaf = base64.b64decode(proof["leaf"])
    assert json.loads(leaf) == events[3]
    assert (proof["leaf_index"], proof["tree_size"], size) == (3, len(events), len(events))
    hashes = [base64.b64decode(h) for h in proof["hashes"]]
    assert verify_inclusion(leaf, 3, size, hashes, root)
    leaves = [json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() for e in events]
    assert root == mth(leaves)


async def _receipt_files(world: World, tmp_path: Path) -> tuple[Path, Path, str]:
    async with world.async_client() as http:
        org = (await http.post("/api/admin/orgs", json={"name": "acme"}, headers=BEARER)).json()["data"]
        made = await http.post(f"/api/admin/orgs/{org['id']}/systems", json={"system_key": "fw"}, headers=BEARER)
        auth = basic("fw", made.json()["data"]["system_secret"])
        stored = await http.post(UPLOAD, content=pgp(300), headers=auth)
        await world.services.log.checkpointer()
        proof = await http.get(f"{UPLOAD}/{stored.json()['data']['id']}/proof", headers=auth)
        vkey = (await http.get("/api/log/public-key")).text.strip()
    receipt, proof_file = tmp_path / "receipt", tmp_path / "proof.json"
    receipt.write_text(stored.headers["backup-receipt"])
    proof_file.write_text(proof.text)
    return receipt, proof_file, vkey


async def test_receipt_verify_checks_a_receipt_and_its_proof_offline(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt, proof, vkey = await _receipt_files(world, tmp_path)
    key_file = tmp_path / "key.pub"
    key_file.write_text(vkey + "\n")
    assert main(["receipt", "verify", str(receipt), "--public-key", str(key_file), "--proof", str(proof)]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["ok"] is True
    assert answer["receipt"]["system_key"] == "fw"
    assert main(["receipt", "verify", str(receipt), "--public-key", vkey]) == 0


async def test_a_retrys_receipt_verifies_with_the_proof_of_its_backup(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 200 duplicate's and a replay's receipt name their own later entry; the backup's proof (of its
    backup.stored entry) still checks them, as an auditor holding only that answer would try."""
    async with world.async_client() as http:
        org = (await http.post("/api/admin/orgs", json={"name": "acme"}, headers=BEARER)).json()["data"]
        made = await http.post(f"/api/admin/orgs/{org['id']}/systems", json={"system_key": "fw"}, headers=BEARER)
        auth = basic("fw", made.json()["data"]["system_secret"])
        keyed = {**auth, "Idempotency-Key": '"k-1"'}
        body = pgp(400)
        first = await http.post(UPLOAD, content=body, headers=keyed)
        replayed = await http.post(UPLOAD, content=body, headers=keyed)
        duplicate = await http.post(UPLOAD, content=body, headers=auth)
        await world.services.log.checkpointer()
        proof = await http.get(f"{UPLOAD}/{first.json()['data']['id']}/proof", headers=auth)
        vkey = (await http.get("/api/log/public-key")).text.strip()
    assert (first.status_code, replayed.status_code, duplicate.status_code) == (201, 201, 200)
    assert replayed.headers["idempotent-replayed"] == "true"
    proof_file = tmp_path / "proof.json"
    proof_file.write_text(proof.text)
    for answer in (first, replayed, duplicate):
        receipt = tmp_path / "receipt"
        receipt.write_text(answer.headers["backup-receipt"])
        assert main(["receipt", "verify", str(receipt), "--public-key", vkey, "--proof", str(proof_file)]) == 0
        assert json.loads(capsys.readouterr().out)["proof"]["leaf_index"] == proof.json()["data"]["leaf_index"]


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        ("receipt-altered", "receipt"),
        ("receipt-truncated", "receipt"),
        ("other-key", "receipt"),
        ("proof-path", "inclusion path"),
        ("proof-leaf", "proof"),
    ],
)
async def test_receipt_verify_exits_1_naming_what_failed(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str, named: str
) -> None:
    receipt, proof, vkey = await _receipt_files(world, tmp_path)
    note = base64.b64decode(receipt.read_text()).decode()
    data = json.loads(proof.read_text())["data"]
    if damage == "receipt-altered":
        receipt.write_text(base64.b64encode(note.replace("size 300", "size 301").encode()).decode())
    elif damage == "receipt-truncated":
        receipt.write_text(receipt.read_text()[:-20])
    elif damage == "other-key":
        vkey = Ed25519Signer.generate(world.settings.log_origin).verifier().text()
    elif damage == "proof-path":
        data["leaf_index"] = data["leaf_index"]  # same index, a hash of the path flipped
        data["hashes"] = [base64.b64encode(bytes(32)).decode() for _ in data["hashes"]] or [
            base64.b64encode(bytes(32)).decode()
        ]
        proof.write_text(json.dumps({"data": data}))
    else:
        entry = json.loads(base64.b64decode(data["leaf"]))
        entry["detail"]["size"] = 1
        data["leaf"] = base64.b64encode(json.dumps(entry).encode()).decode()
        proof.write_text(json.dumps({"data": data}))
    code = main(["receipt", "verify", str(receipt), "--public-key", vkey, "--proof", str(proof)])
    assert code == 1
    error = capsys.readouterr().err
    assert named in error
    assert error.count("\n") == 1
