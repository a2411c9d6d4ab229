"""The one error table of the HTTP edge: domain and framework errors → status and envelope."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException

from adapters.http.dto import Envelope, ErrorItem, ValidationData
from adapters.http.observe import exchange
from domain.errors import (
    BodyIdle,
    ChecksumMismatch,
    ClientGone,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    KeyInFlight,
    KeyReused,
    NotFound,
    RangeNotSatisfiable,
    RateLimited,
    StoreFull,
    TooLarge,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger(__name__)
REALM = 'Basic realm="backup-collect", charset="UTF-8"'
UNAVAILABLE_RETRY_AFTER = 30

_SIMPLE: dict[type[DomainError], tuple[int, str]] = {
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not found"),
    Conflict: (409, "conflict"),
    ClientGone: (400, "client disconnected"),
    ChecksumMismatch: (500, "stored bytes do not match their checksum"),
}


# Invalid input is 400 "validation failed" unless one of these more specific kinds says otherwise.
_INVALID: dict[type[InvalidInput], tuple[int, str]] = {
    TooLarge: (413, "payload too large"),
    KeyInFlight: (409, "upload in progress"),
    KeyReused: (422, "idempotency key reused"),
}


def envelope(
    status: int, message: str, data: Any = None, headers: dict[str, str] | None = None
) -> Response[Envelope[Any]]:
    return Response(Envelope(code=status, message=message, data=data), status_code=status, headers=headers)


def domain_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Envelope[Any]]:
    exchange(request).error = exc
    if isinstance(exc, Unauthenticated):
        return envelope(401, "invalid credentials", {}, {"WWW-Authenticate": REALM})
    if isinstance(exc, InvalidInput):
        data = ValidationData(errors=[ErrorItem(exc.key, exc.message, exc.value)], details=exc.details)
        for invalid, (status, message) in _INVALID.items():
            if isinstance(exc, invalid):
                return envelope(status, message, data)
        return envelope(400, "validation failed", data)
    if isinstance(exc, RateLimited):
        seconds = exc.retry_after
        return envelope(429, "rate limit exceeded", {"retry_after_seconds": seconds}, {"Retry-After": str(seconds)})
    if isinstance(exc, RangeNotSatisfiable):
        return envelope(416, "range not satisfiable", None, {"Content-Range": f"bytes */{exc.size}"})
    if isinstance(exc, StoreFull):
        log.warning("answering 503: %s", exc)
        full = {"dependency": exc.dependency, "retry_after_seconds": UNAVAILABLE_RETRY_AFTER}
        headers = {"Retry-After": str(UNAVAILABLE_RETRY_AFTER)}
        return envelope(503, "no space left in the object store", full, headers)
    if isinstance(exc, Unavailable):
        log.warning("answering 503: %s", exc)
        unavailable = {"dependency": exc.dependency, "retry_after_seconds": UNAVAILABLE_RETRY_AFTER}
        return envelope(
            503, f"{exc.dependency} unavailable", unavailable, {"Retry-After": str(UNAVAILABLE_RETRY_AFTER)}
        )
    if isinstance(exc, BodyIdle):
        # The rest of the body is not worth reading: close the connection once this is sent.
        return envelope(408, str(exc), None, {"Connection": "close"})
    for kind, (status, message) in _SIMPLE.items():
        if isinstance(exc, kind):
            return envelope(status, str(exc) or message, None)
    return internal_error(request, exc)


def http_error(_: Request[Any, Any, Any], exc: Exception) -> Response[Envelope[Any]]:
    """Framework errors (unknown route, bad parameter, method) in the same envelope."""
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for HTTPException only
    if exc.status_code == 413:
        # Litestar's body limit (the admin API's small JSON bodies), in the shape of every other 413.
        too_large = ValidationData(errors=[ErrorItem("body", str(exc.detail), "")], details={})
        return envelope(413, "payload too large", too_large, exc.headers)
    if exc.status_code == 401:
        return envelope(401, str(exc.detail), {}, exc.headers)
    if exc.status_code == 400:
        # Litestar's own validation (a JSON body or a query parameter) in the seed's validation shape.
        extra = exc.extra if isinstance(exc.extra, list) else []
        errors = [
            ErrorItem(str(e.get("key", "request")), str(e.get("message", exc.detail)), "")
            for e in extra
            if isinstance(e, dict)
        ] or [ErrorItem("request", str(exc.detail), "")]
        return envelope(400, "validation failed", ValidationData(errors=errors, details={}), exc.headers)
    data = {"errors": exc.extra} if exc.extra else None
    return envelope(exc.status_code, str(exc.detail), data, exc.headers)


def undecodable(exc: Exception) -> str | None:
    """Why a body could not be decoded, when `exc` says so: bytes that are not in their charset (a JSON
    or form body that is not UTF-8) or a charset Python does not know (`charset=bogus` on a form part).
    None for any other error, which stays an internal one."""
    if isinstance(exc, UnicodeError):
        return "the body is not valid in its character set"
    if type(exc) is LookupError and str(exc).startswith("unknown encoding"):
        return "the body names an unknown character set"
    return None


def undecodable_body(request: Request[Any, Any, Any], exc: Exception) -> Response[Envelope[Any]]:
    """400 for a body the framework could not decode (it raises these from its parsers, on any route)."""
    reason = undecodable(exc)
    if reason is None:
        return internal_error(request, exc)
    exchange(request).error = exc
    return envelope(400, "validation failed", ValidationData(errors=[ErrorItem("body", reason, "")], details={}))


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Envelope[Any]]:
    exchange(request).error = exc
    log.error("unhandled error", exc_info=exc)
    return envelope(500, "internal error", None)


EXCEPTION_HANDLERS = {
    DomainError: domain_error,
    HTTPException: http_error,
    UnicodeError: undecodable_body,
    LookupError: undecodable_body,
    Exception: internal_error,
}
