"""`receipt verify`: check a receipt (and its proof) with nothing but the log's verifier key: no server,
no database, no settings."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

from adapters.cli.services import CliError
from adapters.runtime.logkey import Ed25519Verifier, KeyError_
from domain.notes import NoteError
from domain.receipts import Proof, check_proof, open_receipt


def verify_receipt(receipt_file: str, public_key: str, proof_file: str | None) -> dict[str, Any]:
    """The receipt's fields once everything checks; CliError (exit 1) naming what failed otherwise.

    Args:
        receipt_file: The `Backup-Receipt` header value (base64) or the signed note, in a file.
        public_key: The verifier key (`GET /api/log/public-key`), or a file holding it.
        proof_file: The proof (`GET /api/systems/backups/{id}/proof`: its envelope or its `data`).
    """
    verifier = _verifier(public_key)
    try:
        receipt = open_receipt(_read(receipt_file), verifier)
    except NoteError as error:
        raise CliError(f"receipt verify: receipt: {error}") from None
    fields = {name: getattr(receipt, name) for name in receipt.__dataclass_fields__}
    result: dict[str, Any] = {"ok": True, "receipt": fields}
    if proof_file is not None:
        proof = _proof(_read(proof_file))
        try:
            check_proof(receipt, proof, verifier)
        except NoteError as error:
            raise CliError(f"receipt verify: {error}") from None
        result["proof"] = {"leaf_index": proof.leaf_index, "tree_size": proof.tree_size}
    return result


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"receipt verify: cannot read {path}: {error}") from None


def _verifier(public_key: str) -> Ed25519Verifier:
    text = public_key
    if "+" not in public_key or Path(public_key).is_file():
        text = _read(public_key)
    try:
        return Ed25519Verifier.parse(text)
    except KeyError_ as error:
        raise CliError(f"receipt verify: --public-key: {error}") from None


def _proof(text: str) -> Proof:
    try:
        document = json.loads(text)
        data = document.get("data", document)
        return Proof(
            leaf_index=int(data["leaf_index"]),
            tree_size=int(data["tree_size"]),
            leaf=base64.b64decode(data["leaf"], validate=True),
            hashes=[base64.b64decode(h, validate=True) for h in data["hashes"]],
            checkpoint=str(data["checkpoint"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise CliError("receipt verify: proof: not a proof (leaf_index, tree_size, leaf, hashes, checkpoint)") from None
