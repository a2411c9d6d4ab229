"""System credentials: generation, salted hashing, constant-time verification, key shape."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from domain.errors import InvalidInput

_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")
# Compared against when a key is unknown, so that timing does not tell known keys apart.
_DUMMY = "00" * 16 + "$" + "00" * 32


def new_secret() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_system_key() -> str:
    return f"sys_{secrets.token_hex(8)}"


def check_system_key(key: str) -> str:
    """A key becomes part of an object key and the Basic user name: no `/`, `:`, leading dot."""
    if not _KEY.fullmatch(key):
        raise InvalidInput("system_key", "1-64 characters of A-Z a-z 0-9 . _ -, not starting with a dot", key[:64])
    return key


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    """`salt$hmac-sha256`. Secrets are 256-bit random tokens, so a keyed hash is as strong as a slow
    KDF against guessing, and it keeps authentication cheap when thousands of appliances upload at once."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hmac.new(salt, secret.encode(), hashlib.sha256).hexdigest()
    return f"{salt.hex()}${digest}"


def verify_secret(secret: str, stored: str | None) -> bool:
    """Constant-time comparison; an unknown key (`stored` None) costs the same as a wrong secret."""
    salt_hex, _, _ = (stored or _DUMMY).partition("$")
    candidate = hash_secret(secret, bytes.fromhex(salt_hex))
    return hmac.compare_digest(candidate, stored or _DUMMY) and stored is not None
