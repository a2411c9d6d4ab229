"""The RFC 9162 Merkle tree over the event log (section 2.1): leaf hash SHA-256(0x00 || leaf), node hash
SHA-256(0x01 || left || right), the empty tree's hash SHA-256 of nothing.

`Frontier` keeps the tree's right edge (the roots of its perfect subtrees, largest first), so appending n
leaves costs O(n) hashes plus O(log size), and a checkpoint never re-hashes what it covered before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


@dataclass
class Frontier:
    """The right edge of a tree of `size` leaves: one hash per set bit of `size`, largest subtree first."""

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def append(self, hashed_leaf: bytes) -> None:
        """Add the next leaf (its leaf hash): merge equal-sized subtrees from the right, as a binary
        counter carries."""
        node, size = hashed_leaf, self.size
        while size & 1:
            node = node_hash(self.hashes.pop(), node)
            size >>= 1
        self.hashes.append(node)
        self.size += 1

    def root(self) -> bytes:
        """The tree's hash: its subtrees folded right to left, the RFC's split at the largest power of two."""
        if not self.hashes:
            return EMPTY_ROOT
        node = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            node = node_hash(left, node)
        return node


def root_of(hashed: Sequence[bytes]) -> bytes:
    """MTH over these leaf hashes (recursive definition; for proofs and tests, not checkpoints)."""
    if not hashed:
        return EMPTY_ROOT
    if len(hashed) == 1:
        return hashed[0]
    k = _split(len(hashed))
    return node_hash(root_of(hashed[:k]), root_of(hashed[k:]))


def inclusion_path(index: int, hashed: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 2.1.3.1 PATH(m, D[n]) for leaf `index` of the tree of these leaf hashes, leaf side first."""
    if not 0 <= index < len(hashed):
        raise ValueError("leaf index outside the tree")
    if len(hashed) == 1:
        return []
    k = _split(len(hashed))
    if index < k:
        return [*inclusion_path(index, hashed[:k]), root_of(hashed[k:])]
    return [*inclusion_path(index - k, hashed[k:]), root_of(hashed[:k])]


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)
