"""Server-assigned user ids, unique across workers and restarts.

Each worker reserves a block of ids from a PostgreSQL sequence (hi/lo) and hands
them out locally, so creating a user costs one database round trip per thousand
users rather than one per user. A restart abandons the rest of its block: ids
may have gaps, never repeats.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from app.models import MAX_USER_ID


class IdBlockSource(Protocol):
    """Where blocks of fresh ids come from (the database)."""

    async def reserve_user_ids(self) -> range: ...


class UserIdAllocator:
    """Hands out ids from reserved blocks, reserving a new block when one runs out."""

    def __init__(self, source: IdBlockSource) -> None:
        self._source = source
        self._block: list[int] = []
        self._lock = asyncio.Lock()

    async def next_id(self) -> int:
        """A user id never handed out before by any worker."""
        async with self._lock:
            if not self._block:
                block = await self._source.reserve_user_ids()
                if block.stop - 1 > MAX_USER_ID:
                    raise OverflowError("user ids exhausted (2^53 - 1 reached)")
                self._block = list(reversed(block))
            return self._block.pop()
