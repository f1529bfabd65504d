"""User ids come from reserved blocks: unique, and one reservation per block."""

import asyncio

import pytest

from app.models import MAX_USER_ID
from app.user_ids import UserIdAllocator


class FakeBlocks:
    """Stands in for the PostgreSQL sequence: consecutive blocks of ``size``."""

    def __init__(self, size: int, start: int = 1) -> None:
        self.size, self.next_start, self.reservations = size, start, 0

    async def reserve_user_ids(self) -> range:
        self.reservations += 1
        block = range(self.next_start, self.next_start + self.size)
        self.next_start += self.size
        return block


async def test_ids_are_unique_under_concurrency_and_blocks_reserved_lazily() -> None:
    blocks = FakeBlocks(size=100)
    allocator = UserIdAllocator(blocks)
    ids = await asyncio.gather(*(allocator.next_id() for _ in range(250)))
    assert sorted(ids) == list(range(1, 251))
    assert blocks.reservations == 3


async def test_ids_beyond_javascript_safe_integers_are_refused() -> None:
    allocator = UserIdAllocator(FakeBlocks(size=10, start=MAX_USER_ID - 5))
    with pytest.raises(OverflowError):
        await allocator.next_id()
