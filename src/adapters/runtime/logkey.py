"""The event log's Ed25519 key, in the C2SP signed-note key encodings (pyca `cryptography` signs).

Signer key (the key file): `PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 || 32-byte seed)>`.
Verifier key (`GET /api/log/public-key`): `<name>+<key ID hex>+<base64(0x01 || 32-byte public key)>`.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.notes import ED25519, key_id


class KeyError_(ValueError):  # noqa: N801 (not the builtin KeyError)
    """A key file or verifier key that cannot be used; the message is one line for the operator."""


@dataclass(frozen=True, slots=True)
class Ed25519Signer:
    name: str
    private: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier(self.name, self.public_key)

    def text(self) -> str:
        seed = self.private.private_bytes_raw()
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{base64.b64encode(ED25519 + seed).decode()}"

    @classmethod
    def generate(cls, name: str) -> Ed25519Signer:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, text: str) -> Ed25519Signer:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise KeyError_("not a signer key (PRIVATE+KEY+<name>+<id>+<key>)")
        name, hex_id, material = parts[2:]
        raw = _decode(material)
        if len(raw) != 33 or raw[:1] != ED25519:
            raise KeyError_("not an Ed25519 signer key")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.key_id.hex() != hex_id:
            raise KeyError_("the signer key's ID does not match its key")
        return signer


@dataclass(frozen=True, slots=True)
class Ed25519Verifier:
    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def text(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(ED25519 + self.public_key).decode()}"

    @classmethod
    def parse(cls, text: str) -> Ed25519Verifier:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise KeyError_("not a verifier key (<name>+<id>+<key>)")
        name, hex_id, material = parts
        raw = _decode(material)
        if len(raw) != 33 or raw[:1] != ED25519:
            raise KeyError_("not an Ed25519 verifier key")
        verifier = cls(name, raw[1:])
        if verifier.key_id.hex() != hex_id:
            raise KeyError_("the verifier key's ID does not match its key")
        return verifier


def _decode(material: str) -> bytes:
    try:
        return base64.b64decode(material, validate=True)
    except binascii.Error:
        raise KeyError_("the key is not base64") from None


def load_signer(path: Path) -> Ed25519Signer:
    """Raises KeyError_ with one line naming the file when it is missing, unreadable or not a key."""
    try:
        return Ed25519Signer.parse(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise KeyError_(f"BACKUP_LOG_KEY_FILE {path}: cannot read it ({error.strerror or error})") from None
    except (KeyError_, UnicodeDecodeError, ValueError) as error:
        raise KeyError_(f"BACKUP_LOG_KEY_FILE {path}: {error}") from None


def write_signer(path: Path, signer: Ed25519Signer) -> None:
    """Create `path` (readable by its owner only) whole or not at all; an existing file is never
    overwritten (FileExistsError). The key is written to a temp file first and linked into place, so a
    process racing to make the same key (replicas starting on one data dir) never reads a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(signer.text() + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
