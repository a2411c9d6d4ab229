"""Receipts: what the service signs for an appliance at once, and what anyone checks offline with only the
log's verifier key. A receipt is a C2SP signed note by the log's key whose text is

    backup-collect receipt v1
    origin <log origin>
    leaf_index <seq of the log entry that records this answer>
    system_key <key>
    backup_id <id>
    sha256 <hex>
    size <bytes>
    uploaded_at <RFC 3339 UTC>

The `Backup-Receipt` header carries it base64-encoded. A proof (`GET .../{id}/proof`) later shows that
the backup's `backup.stored` entry is in a signed checkpoint (RFC 9162 inclusion path): the entry at
`leaf_index`, or for a retry's receipt (`backup.duplicate`, `backup.replayed`) the stored entry before it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, fields

from domain.events import EventQuery, EventType, format_at
from domain.merkle import inclusion_path, leaf_hash, node_hash
from domain.model import Backup
from domain.notes import CheckpointBody, NoteError, NoteSigner, NoteVerifier, open_note, sign
from domain.ports import CheckpointStore, EventLog

HEADER = "Backup-Receipt"
TITLE = "backup-collect receipt v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    origin: str
    leaf_index: int
    system_key: str
    backup_id: str
    sha256: str
    size: int
    uploaded_at: str

    def text(self) -> str:
        lines = [TITLE, *(f"{f.name} {getattr(self, f.name)}" for f in fields(self))]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Receipt:
        lines = text.split("\n")
        names = [f.name for f in fields(cls)]
        if lines[0] != TITLE or lines[-1] != "" or len(lines) != len(names) + 2:
            raise NoteError("not a backup-collect receipt")
        values: dict[str, str] = {}
        for name, line in zip(names, lines[1:-1], strict=True):
            label, _, value = line.partition(" ")
            if label != name or not value:
                raise NoteError(f"receipt: line {name} expected")
            values[name] = value
        if not values["leaf_index"].isdigit() or not values["size"].isdigit():
            raise NoteError("receipt: leaf_index and size must be whole numbers")
        return cls(
            **{k: v for k, v in values.items() if k not in ("leaf_index", "size")},
            leaf_index=int(values["leaf_index"]),
            size=int(values["size"]),
        )


@dataclass(frozen=True, slots=True)
class Receipts:
    """Signs receipts with the log's key, at once (before the answer leaves)."""

    signer: NoteSigner
    origin: str

    def issue(self, backup: Backup, system_key: str, leaf_index: int) -> str:
        return issue(backup, system_key, leaf_index, self.origin, self.signer)


def issue(backup: Backup, system_key: str, leaf_index: int, origin: str, signer: NoteSigner) -> str:
    """The `Backup-Receipt` header value: base64 of the signed note."""
    receipt = Receipt(
        origin=origin,
        leaf_index=leaf_index,
        system_key=system_key,
        backup_id=backup.id,
        sha256=backup.sha256,
        size=backup.size,
        uploaded_at=format_at(backup.uploaded_at),
    )
    return base64.b64encode(sign(receipt.text(), signer).encode()).decode()


def open_receipt(value: str, verifier: NoteVerifier) -> Receipt:
    """The receipt in a header value (base64) or a note file (text), once its signature verifies."""
    note = value.strip() + "\n"
    if not note.startswith(TITLE):
        try:
            note = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise NoteError("receipt: neither a signed note nor base64 of one") from None
    return Receipt.parse(open_note(note, verifier))


@dataclass(frozen=True, slots=True)
class Proof:
    leaf_index: int
    tree_size: int
    leaf: bytes
    hashes: list[bytes]
    checkpoint: str


def check_proof(receipt: Receipt, proof: Proof, verifier: NoteVerifier) -> None:
    """Raises NoteError naming what failed: the checkpoint's signature or origin, the leaf not being
    this receipt's `backup.stored` entry, or the inclusion path not leading to the signed root."""
    body = CheckpointBody.parse(open_note(proof.checkpoint, verifier))
    if body.origin != receipt.origin or body.size != proof.tree_size:
        raise NoteError("proof: the checkpoint is of another log or another tree size")
    try:
        entry = json.loads(proof.leaf)
    except ValueError:
        raise NoteError("proof: the leaf is not an entry") from None
    # A retry's receipt (200 duplicate, replay) names its own later entry; the proof (by backup id) is of
    # the backup.stored entry that came first. Either way the leaf must be that backup's stored entry.
    wanted = {"type": "backup.stored", "backup_id": receipt.backup_id, "system_key": receipt.system_key}
    if not isinstance(entry, dict) or any(entry.get(k) != v for k, v in wanted.items()):
        raise NoteError("proof: the leaf is not this receipt's backup.stored entry")
    if entry.get("seq") != proof.leaf_index or proof.leaf_index > receipt.leaf_index:
        raise NoteError("proof: the leaf is not this receipt's backup.stored entry")
    if entry.get("detail") != {"sha256": receipt.sha256, "size": receipt.size}:
        raise NoteError("proof: the entry's sha256 or size differs from the receipt's")
    if root_from_path(proof) != body.root:
        raise NoteError("proof: the inclusion path does not lead to the checkpoint's root")


def root_from_path(proof: Proof) -> bytes | None:
    """RFC 9162 2.1.3.2: the root the inclusion path gives, None when the path does not fit the tree."""
    if proof.leaf_index >= proof.tree_size:
        return None
    fn, sn, node = proof.leaf_index, proof.tree_size - 1, leaf_hash(proof.leaf)
    for sibling in proof.hashes:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    return node if sn == 0 else None


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupProofs:
    """The inclusion proof of a backup's `backup.stored` entry in the latest signed checkpoint."""

    events: EventLog
    store: CheckpointStore

    async def proof(self, backup: Backup) -> Proof | None:
        """None when no entry records it (stored before the log began) or no checkpoint covers it yet."""
        query = EventQuery(type=EventType.BACKUP_STORED, backup_id=backup.id, limit=1)
        found = await self.events.search(query)
        latest = await self.store.latest()
        if not found or latest is None or found[0].seq >= latest.tree_size:
            return None
        seq = found[0].seq
        ((_, leaf),) = await self.events.leaves(seq - 1, 1)
        hashes = await self.store.leaf_hashes(latest.tree_size)
        return Proof(seq, latest.tree_size, leaf, inclusion_path(seq, hashes), latest.note)
