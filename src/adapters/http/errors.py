"""The one error table of the HTTP edge: domain and framework errors → status and envelope."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException

from adapters.http.aborted import BodyIdle, ShuttingDown
from adapters.http.answers import RETRY_AFTER, answer_for
from adapters.http.dto import Envelope, ErrorItem, ValidationData
from adapters.http.observe import exchange
from domain.errors import DomainError, InvalidInput, RangeNotSatisfiable, RateLimited, Unauthenticated, Unavailable

log = logging.getLogger(__name__)
REALM = 'Basic realm="backup-collect", charset="UTF-8"'


def envelope(
    status: int, message: str, data: Any = None, headers: dict[str, str] | None = None
) -> Response[Envelope[Any]]:
    return Response(Envelope(code=status, message=message, data=data), status_code=status, headers=headers)


def domain_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Envelope[Any]]:
    """The answer `answers.ANSWERS` gives, in the envelope, with the data and headers its kind carries."""
    exchange(request).error = exc
    answer = answer_for(exc) if isinstance(exc, DomainError) else None
    if answer is None:
        return internal_error(request, exc)
    data, headers = _details(exc)
    return envelope(answer.status, answer.message.format(error=exc), data, headers)


def _details(exc: Exception) -> tuple[Any, dict[str, str] | None]:
    if isinstance(exc, Unauthenticated):
        return {}, {"WWW-Authenticate": REALM}
    if isinstance(exc, InvalidInput):
        return ValidationData(errors=[ErrorItem(exc.key, exc.message, exc.value)], details=exc.details), None
    if isinstance(exc, RateLimited):
        return {"retry_after_seconds": exc.retry_after}, {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, RangeNotSatisfiable):
        return None, {"Content-Range": f"bytes */{exc.size}"}
    if isinstance(exc, Unavailable | ShuttingDown):
        log.warning("answering 503: %s", exc)
        return {"dependency": exc.dependency, "retry_after_seconds": RETRY_AFTER}, {"Retry-After": str(RETRY_AFTER)}
    if isinstance(exc, BodyIdle):
        # The rest of the body is not worth reading: close the connection once this is sent.
        return None, {"Connection": "close"}
    return None, None


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
    or form body that is not UTF-8) or a charset Python cannot decode text with (`charset=bogus`, `charset=rot13`).
    None for any other error, which stays an internal one."""
    if isinstance(exc, UnicodeError):
        return "the body is not valid in its character set"
    # Python's codec lookup: `unknown encoding: x`, or `'rot13' is not a text encoding; use codecs.decode()…`.
    if type(exc) is LookupError and ("unknown encoding" in str(exc) or "is not a text encoding" in str(exc)):
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
