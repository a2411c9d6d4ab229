"""HTTP authentication: Basic for appliances (`system_key:system_secret`), Bearer tokens for operators' routes."""

from __future__ import annotations

import base64
import hmac

from domain.errors import Unauthenticated
from domain.model import SystemIdentity
from domain.ports import Standing, SystemDirectory


def basic_credentials(header: str | None) -> tuple[str, str]:
    """Split an `Authorization: Basic …` header; anything malformed is Unauthenticated."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        raise Unauthenticated()
    try:
        # A str with non-ASCII characters (header bytes arrive as latin-1) is a ValueError too, as
        # are bad padding (binascii.Error) and credentials that are not UTF-8 (UnicodeDecodeError).
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except ValueError:
        raise Unauthenticated() from None
    key, colon, secret = decoded.partition(":")
    if not colon or not key or not secret:
        raise Unauthenticated()
    return key, secret


async def authenticate(directory: SystemDirectory, header: str | None) -> SystemIdentity:
    key, secret = basic_credentials(header)
    identity = await directory.authenticate(key, secret)
    if identity is None:
        raise Unauthenticated()
    return identity


async def authenticate_upload(directory: SystemDirectory, header: str | None) -> Standing:
    """The uploader and what its upload's advisory checks need, in one read."""
    key, secret = basic_credentials(header)
    standing = await directory.authenticate_upload(key, secret)
    if standing is None:
        raise Unauthenticated()
    return standing


def bearer_matches(header: str | None, token: str) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time (on bytes: whatever its characters)."""
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
