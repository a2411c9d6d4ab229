"""Byte ranges of a download (RFC 9110 §14): which part of a backup of known size to send."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import RangeNotSatisfiable


@dataclass(frozen=True, slots=True)
class RangeRequest:
    """One range as asked: `first-last`, `first-` (last None) or the suffix `-length` (first None)."""

    first: int | None
    last: int | None

    def __post_init__(self) -> None:
        if self.first is None and self.last is None:
            raise ValueError("a range needs a first byte or a suffix length")
        if self.first is not None and self.last is not None and self.last < self.first:
            raise ValueError("a range's last byte precedes its first")


@dataclass(frozen=True, slots=True)
class ByteSpan:
    """Bytes `start` up to `end` (exclusive) of an object of `size` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.end == self.size


def resolve(wanted: RangeRequest | None, size: int) -> ByteSpan:
    """The span to send: everything without a range, else the range clipped to the object.

    Raises:
        RangeNotSatisfiable: The range starts past the end, or asks for an empty suffix.
    """
    if wanted is None:
        return ByteSpan(0, size, size)
    if wanted.first is None:
        length = wanted.last or 0
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return ByteSpan(max(0, size - length), size, size)
    if wanted.first >= size:
        raise RangeNotSatisfiable(size)
    end = size if wanted.last is None else min(wanted.last + 1, size)
    return ByteSpan(wanted.first, end, size)
