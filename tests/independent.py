"""An independent verifier for the tests: RFC 9162 section 2.1 (Merkle tree hash, inclusion proof check)
and C2SP signed-note / tlog-checkpoint, written from the specifications with nothing of `src/` imported,
so the service's own code is never what checks itself. Ed25519 is pyca `cryptography`'s."""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 2.1.1: MTH({}) = SHA-256(); MTH({d0}) = SHA-256(0x00 || d0); else split at the largest
    power of two k < n: SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))."""
    n = len(leaves)
    if n == 0:
        return _sha256(b"")
    if n == 1:
        return _sha256(b"\x00" + leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return _sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2, step by step."""
    if index >= size:
        return False
    fn, sn = index, size - 1
    r = _sha256(b"\x00" + leaf)
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def open_signed_note(note: str, vkey: str) -> str:
    """C2SP signed-note: the text, once a line `— <name> base64(keyID || sig)` by the key `vkey`
    (`<name>+<hex keyID>+base64(0x01 || pubkey)`) verifies over it. Raises ValueError otherwise."""
    name, hex_id, material = vkey.split("+", 2)
    raw = base64.b64decode(material)
    if raw[:1] != b"\x01" or len(raw) != 33:
        raise ValueError("not an Ed25519 verifier key")
    key_id = _sha256(name.encode() + b"\n" + raw)[:4]
    if key_id.hex() != hex_id:
        raise ValueError("verifier key ID mismatch")
    cut = note.rindex("\n\n")
    text, signatures = note[: cut + 1], note[cut + 2 :].splitlines()
    for line in signatures:
        dash, signer, blob = line.split(" ")
        if dash != "\u2014" or signer != name:
            continue
        decoded = base64.b64decode(blob)
        if decoded[:4] != key_id:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(raw[1:]).verify(decoded[4:], text.encode())
        except InvalidSignature:
            raise ValueError("bad signature") from None
        return text
    raise ValueError("no signature by this key")


def parse_checkpoint(text: str) -> tuple[str, int, bytes]:
    """C2SP tlog-checkpoint: origin, decimal tree size, base64 root hash, each on its own line."""
    origin, size, root, *extensions = text.split("\n")
    assert extensions == [""], "only the three lines, newline-terminated"
    return origin, int(size), base64.b64decode(root)
