from __future__ import annotations

import hashlib
import os

import pytest

from domain.errors import TooLarge
from domain.metering import MeteredBody
from tests.unit.fakes import chunks


async def test_chunks_pass_through_unjoined_in_order_and_the_digest_matches() -> None:
    data = os.urandom(300_000)
    metered = MeteredBody(data[:7], chunks(data[7:], 4096), cap=len(data), block_size=64 * 1024)
    blocks = [block async for block in metered]
    assert b"".join(blocks) == data
    assert [len(b) for b in blocks[:3]] == [7, 4096, 4096]  # no copy into larger blocks
    assert metered.size == len(data)
    assert metered.sha256 == hashlib.sha256(data).hexdigest()


async def test_crossing_the_cap_raises_before_the_excess_is_yielded() -> None:
    metered = MeteredBody(b"", chunks(os.urandom(10_000), 1000), cap=5_500, block_size=1000)
    seen: list[bytes] = []

    async def drain() -> None:
        async for block in metered:
            seen.append(block)

    with pytest.raises(TooLarge):
        await drain()
    assert sum(map(len, seen)) <= 5_500
