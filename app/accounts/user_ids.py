"""Server-assigned user ids, unique across workers and restarts.

Each worker reserves a block of ids from a PostgreSQL sequence (hi/lo) and hands
them out locally, so creating a user costs one database round trip per thousand
users rather than one per user. A restart abandons the rest of its block: ids
may have gaps, never repeats.

A sign-up sent with an ``Idempotency-Key`` has a correlation id derived from
the key (:mod:`app.requests.envelope`): the first request with it claims a user id
for that correlation id in PostgreSQL, and the same sign-up sent again is
answered with that id, not a fresh one (which is simply left unused).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from app.requests.fields import MAX_USER_ID


class IdBlockSource(Protocol):
    """Where blocks of fresh ids come from, and where keyed sign-ups claim theirs (the database)."""

    async def reserve_user_ids(self) -> range: ...

    async def claim_signup_user_id(self, correlation_id: str, user_id: int) -> int: ...


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

    async def id_for_signup(self, correlation_id: str) -> int:
        """The user id of the keyed sign-up ``correlation_id``: the first request's, for every one."""
        return await self._source.claim_signup_user_id(correlation_id, await self.next_id())
