"""Quota policy: may an organization take `incoming` more bytes, given what retention frees?"""

from __future__ import annotations


def effective_quota(override: int | None, default: int) -> int:
    """The org's own quota when set, else the default; 0 means no quota applies."""
    return default if override is None else override


def fits(used: int, freed: int, incoming: int, quota: int) -> bool:
    """Bytes that retention prunes from the same system because of this upload count as freed,
    so an org rotating at steady state near its quota is never locked out."""
    return quota == 0 or used - freed + incoming <= quota
