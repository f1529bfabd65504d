"""User ids come from reserved blocks: unique, and one reservation per block."""

import asyncio

import pytest

from app.accounts.user_ids import UserIdAllocator
from app.requests.fields import MAX_USER_ID


class FakeBlocks:
    """Stands in for the PostgreSQL sequence: consecutive blocks of ``size``."""

    def __init__(self, size: int, start: int = 1) -> None:
        self.size, self.next_start, self.reservations = size, start, 0
        self.claims: dict[str, int] = {}

    async def reserve_user_ids(self) -> range:
        self.reservations += 1
        block = range(self.next_start, self.next_start + self.size)
        self.next_start += self.size
        return block

    async def claim_signup_user_id(self, correlation_id: str, user_id: int) -> int:
        return self.claims.setdefault(correlation_id, user_id)


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


async def test_a_keyed_sign_up_sent_again_gets_the_id_its_first_request_claimed() -> None:
    allocator = UserIdAllocator(FakeBlocks(size=10))
    first = await allocator.id_for_signup("cid-1")
    again = await allocator.id_for_signup("cid-1")
    other = await allocator.id_for_signup("cid-2")
    assert first == again != other
