"""The replay ledger (``dead_letter_replays``, migration 0009): each dead letter re-sent once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import NamedTuple

from app.storage.pool import Pooled

# Dead letters re-sent (migration 0009): claimed in the transaction that re-sends them.
_REPLAYED_DEAD_LETTERS = """
SELECT partition, "offset", written_at, replays, resent_topic, resent_partition,
       resent_offset, replayed_at
  FROM dead_letter_replays WHERE topic = %s"""
_CLAIM_REPLAY = """
INSERT INTO dead_letter_replays (topic, partition, "offset", written_at, replays, resent_topic)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT DO NOTHING
RETURNING 1"""
_RECORD_RESENT = """
UPDATE dead_letter_replays SET resent_partition = %s, resent_offset = %s
 WHERE topic = %s AND partition = %s AND "offset" = %s AND written_at = %s"""


class DeadLetterKey(NamedTuple):
    """One dead letter: its place in the dead-letter topic and when it was written."""

    topic: str
    partition: int
    offset: int
    written_at: datetime


class DeadLetterReplay(NamedTuple):
    """A dead letter's replay: the count the re-sent event carried, and where it went."""

    replays: int
    resent_topic: str
    resent_partition: int | None
    resent_offset: int | None
    replayed_at: datetime


class ReplayQueries(Pooled):
    """Which dead letters were replayed, and a claim that makes a replay happen once."""

    async def dead_letter_replays(self, topic: str) -> dict[DeadLetterKey, DeadLetterReplay]:
        """The dead letters of ``topic`` replayed so far, with their replays."""
        rows = await self._rows(_REPLAYED_DEAD_LETTERS, (topic,))
        return {
            DeadLetterKey(topic, partition, offset, written_at): DeadLetterReplay(*replay)
            for partition, offset, written_at, *replay in rows
        }

    async def replay_once(
        self,
        letter: DeadLetterKey,
        replays: int,
        resent_topic: str,
        resend: Callable[[], Awaitable[tuple[int, int]]],
    ) -> tuple[int, int] | None:
        """Run ``resend`` under a claim on ``letter``; where it put the event, or None if claimed.

        The claim commits only once ``resend`` returned (the event is in
        Kafka): a failed send leaves the dead letter to replay again, and a
        second replay of it, even a concurrent one, sends nothing.
        """
        claim = (*letter, replays, resent_topic)
        async with self.pool.acquire() as conn, conn.cursor() as cur, cur.begin():
            await cur.execute(_CLAIM_REPLAY, claim)
            if await cur.fetchone() is None:
                return None
            partition, offset = await resend()
            await cur.execute(_RECORD_RESENT, (partition, offset, *letter))
        return partition, offset
