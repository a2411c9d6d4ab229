"""OpenPGP sniff: does a body start like an encrypted OpenPGP message? (RFC 9580 packet headers)."""

from __future__ import annotations

ARMOR = b"-----BEGIN PGP MESSAGE-----"
# PKESK, SKESK, SED, marker, SEIPD, AEAD: the packets an encrypted message may start with.
ENCRYPTED_TAGS = frozenset({1, 3, 9, 10, 18, 20})
WHITESPACE = b" \t\r\n"
# How much leading whitespace an armored message may carry before we stop looking.
MAX_PEEK = 4096


def needed(prefix: bytes) -> bool:
    """True while `prefix` is too short to decide."""
    if not prefix:
        return True
    if prefix[0] & 0x80:
        return False
    stripped = prefix.lstrip(WHITESPACE)
    if not stripped:
        return len(prefix) < MAX_PEEK
    return len(stripped) < len(ARMOR) and ARMOR.startswith(stripped) and len(prefix) < MAX_PEEK


def looks_encrypted(prefix: bytes) -> bool:
    """Decide from the first bytes of a body: armor after optional whitespace, or an encrypted packet."""
    if not prefix:
        return False
    first = prefix[0]
    if first & 0x80:
        tag = first & 0x3F if first & 0x40 else (first >> 2) & 0x0F
        return tag in ENCRYPTED_TAGS
    return prefix.lstrip(WHITESPACE).startswith(ARMOR)
