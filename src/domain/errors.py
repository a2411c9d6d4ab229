"""Domain errors. The HTTP edge maps each to a status (adapters/http/errors.py); the CLI to an exit code."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class Unauthenticated(DomainError):
    """Missing, malformed or wrong credentials, or a suspended system."""


class Forbidden(DomainError):
    """The caller is known but may not do this (append-only mode)."""


class NotFound(DomainError):
    """No such object visible to the caller."""


class Conflict(DomainError):
    """The thing to create exists already."""


class InvalidInput(DomainError):
    """A value failed validation: `key` names the field, `value` what was sent."""

    def __init__(self, key: str, message: str, value: str = "", details: dict[str, int] | None = None) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message
        self.value = value
        self.details = details or {}


class TooLarge(InvalidInput):
    """A size cap or the organization's quota refuses the upload."""


class OverQuota(TooLarge):
    """The organization's quota refuses the upload, even after what retention would free."""

    def __init__(self, size: int) -> None:
        super().__init__("org_quota", "organization quota exceeded", str(size))


class Protected(InvalidInput):
    """The backup is protected (it cannot be deleted), or protecting one more would pass the per-system
    maximum; key `protected`."""

    def __init__(self, message: str, value: str = "") -> None:
        super().__init__("protected", message, value)


class KeyInFlight(InvalidInput):
    """An upload with the same `Idempotency-Key` is still under way (refused before the body is read)."""

    def __init__(self, key: str) -> None:
        super().__init__("Idempotency-Key", "an upload with this key is in progress", key)


class KeyReused(InvalidInput):
    """The `Idempotency-Key` was used within 24 h for another body."""

    def __init__(self, key: str) -> None:
        super().__init__("Idempotency-Key", "this key was used for another body", key)


class RateLimited(DomainError):
    """The system spent its upload slots; it may retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limit exceeded, retry after {retry_after}s")
        self.retry_after = max(1, retry_after)


class Unavailable(DomainError):
    """A dependency (object store, database) failed; nothing was recorded."""

    def __init__(self, dependency: str, detail: str = "") -> None:
        super().__init__(f"{dependency} unavailable{': ' + detail if detail else ''}")
        self.dependency = dependency


class StoreUnavailable(Unavailable):
    """The object store failed."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("object store", detail)


class StoreFull(StoreUnavailable):
    """The object store answers but has no room for the body (disk full, quota, S3 EntityTooLarge)."""


class CatalogUnavailable(Unavailable):
    """The database failed."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("database", detail)


class ObjectMissing(DomainError):
    """The object store has no object under that key."""


class UploadAborted(DomainError):
    """The upload ended before its body was complete (the client hung up or went silent, or the server is
    shutting down); the use case left nothing behind. The edge that saw it raises a subclass of its own."""


class RangeNotSatisfiable(DomainError):
    """No byte of the requested range lies inside the object of `size` bytes."""

    def __init__(self, size: int) -> None:
        super().__init__(f"range not satisfiable: the backup has {size} bytes")
        self.size = size


class ChecksumMismatch(DomainError):
    """The bytes read back do not hash to the sha256 recorded when they were stored."""
