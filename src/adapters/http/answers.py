"""What each domain error answers, in one table: its status, the envelope's message, and the `outcome`
label an upload that ended with it is counted under (SPEC: `backup_collect_uploads_total{outcome}`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum

from adapters.http.aborted import BodyIdle, ClientGone, ShuttingDown, TooManyInFlight
from domain.errors import (
    ChecksumMismatch,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    KeyInFlight,
    KeyReused,
    NotFound,
    OverQuota,
    Protected,
    RangeNotSatisfiable,
    RateLimited,
    StoreFull,
    TooLarge,
    Unauthenticated,
    Unavailable,
    UploadAborted,
)

RETRY_AFTER = 30
"""SPEC's `Retry-After` for every 503, and for the 429 of a system with too many uploads in flight."""


class UploadOutcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    REPLAYED = "replayed"
    UNAUTHORIZED = "unauthorized"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    QUOTA = "quota"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"
    ABORTED = "aborted"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    message: str
    """The envelope's message, formatted with the error: `{error}` is its own text."""
    outcome: UploadOutcome


_O = UploadOutcome
# Most specific first: the first class the error is an instance of answers.
ANSWERS: dict[type[DomainError], Answer] = {
    Unauthenticated: Answer(401, "invalid credentials", _O.UNAUTHORIZED),
    OverQuota: Answer(413, "payload too large", _O.QUOTA),
    TooLarge: Answer(413, "payload too large", _O.TOO_LARGE),
    KeyInFlight: Answer(409, "upload in progress", _O.INVALID),
    KeyReused: Answer(422, "idempotency key reused", _O.INVALID),
    Protected: Answer(409, "protected", _O.INVALID),
    InvalidInput: Answer(400, "validation failed", _O.INVALID),
    TooManyInFlight: Answer(429, "too many uploads in flight", _O.RATE_LIMITED),
    RateLimited: Answer(429, "rate limit exceeded", _O.RATE_LIMITED),
    RangeNotSatisfiable: Answer(416, "range not satisfiable", _O.INVALID),
    StoreFull: Answer(503, "no space left in the object store", _O.UNAVAILABLE),
    Unavailable: Answer(503, "{error.dependency} unavailable", _O.UNAVAILABLE),
    ShuttingDown: Answer(503, "{error.dependency} unavailable", _O.ABORTED),
    BodyIdle: Answer(408, "{error}", _O.ABORTED),
    ClientGone: Answer(400, "{error}", _O.ABORTED),
    UploadAborted: Answer(400, "{error}", _O.ABORTED),
    Forbidden: Answer(403, "{error}", _O.INVALID),
    NotFound: Answer(404, "{error}", _O.INVALID),
    Conflict: Answer(409, "{error}", _O.INVALID),
    ChecksumMismatch: Answer(500, "{error}", _O.UNAVAILABLE),
}
# Answers the framework gave itself (no domain error), by status.
_BY_STATUS = {
    201: _O.STORED,
    200: _O.DUPLICATE,
    401: _O.UNAUTHORIZED,
    408: _O.ABORTED,
    413: _O.TOO_LARGE,
    429: _O.RATE_LIMITED,
    # A transfer coding other than chunked (adapters.http.edge): the request is malformed, no dependency failed.
    501: _O.INVALID,
}


def answer_for(error: DomainError) -> Answer | None:
    """The table's answer to `error`; None for one it does not know (an internal error)."""
    return next((answer for kind, answer in ANSWERS.items() if isinstance(error, kind)), None)


def upload_outcome(status: int | None, error: BaseException | None) -> UploadOutcome:
    """The `outcome` label of an upload answered `status` (None: no answer was sent) after `error`."""
    if status is None or isinstance(error, asyncio.CancelledError):
        return _O.ABORTED
    known = answer_for(error) if isinstance(error, DomainError) else None
    if known is not None:
        return known.outcome
    return _BY_STATUS.get(status, _O.UNAVAILABLE if status >= 500 else _O.INVALID)
