"""C2SP signed notes and tlog-checkpoints: the text form of what the log signs.

A note is text ending in a newline, a blank line, then signature lines `— <key name> <base64(key ID ||
signature)>`. A checkpoint's text is three lines: origin, tree size (decimal), base64 root hash. The
signature primitive (Ed25519) is an adapter's: the domain sees `NoteSigner` and `NoteVerifier`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Protocol

ED25519 = b"\x01"
DASH = "\u2014"


class NoteError(Exception):
    """A note or checkpoint that does not parse, or whose signature does not verify."""


class NoteSigner(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes:
        """4 bytes: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
        ...

    def sign(self, message: bytes) -> bytes: ...


class NoteVerifier(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def verify(self, message: bytes, signature: bytes) -> bool: ...


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def sign(text: str, signer: NoteSigner) -> str:
    """The note: `text` (ending in a newline), a blank line and the signer's line."""
    if not text.endswith("\n"):
        raise NoteError("a note's text must end in a newline")
    blob = base64.b64encode(signer.key_id + signer.sign(text.encode())).decode()
    return f"{text}\n{DASH} {signer.name} {blob}\n"


def open_note(note: str, verifier: NoteVerifier) -> str:
    """The text of `note` once a signature by `verifier`'s key verifies; NoteError otherwise."""
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteError("not a signed note: no blank line before the signatures")
    text, lines = note[: cut + 1], note[cut + 2 : -1].split("\n")
    for line in lines:
        prefix = f"{DASH} {verifier.name} "
        if not line.startswith(prefix):
            continue
        try:
            blob = base64.b64decode(line[len(prefix) :], validate=True)
        except binascii.Error:
            raise NoteError("a signature line is not base64") from None
        if blob[:4] != verifier.key_id:
            continue
        if verifier.verify(text.encode(), blob[4:]):
            return text
        raise NoteError(f"the signature of {verifier.name} does not verify")
    raise NoteError(f"no signature by {verifier.name} (key ID {verifier.key_id.hex()})")


@dataclass(frozen=True, slots=True)
class CheckpointBody:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> CheckpointBody:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or not lines[1].isdigit() or lines[1] != str(int(lines[1])):
            raise NoteError("not a checkpoint: origin, tree size and root hash lines expected")
        try:
            root = base64.b64decode(lines[2], validate=True)
        except binascii.Error:
            raise NoteError("the checkpoint's root hash is not base64") from None
        if len(root) != 32:
            raise NoteError("the checkpoint's root hash is not 32 bytes")
        return cls(lines[0], int(lines[1]), root)
