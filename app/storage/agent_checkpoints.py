"""Each guarded agent's checkpoint per partition (``agent_checkpoints``): moved forward only."""

from __future__ import annotations

from typing import NamedTuple

from app.storage.pool import Pooled

_CHECKPOINTS = """
SELECT partition, next_offset FROM agent_checkpoints
 WHERE group_id = %s AND agent = %s AND topic = %s AND partition = ANY(%s)"""
_SAVE_CHECKPOINTS = """
INSERT INTO agent_checkpoints (group_id, agent, topic, partition, next_offset)
SELECT %s, %s, %s, p, o FROM unnest(%s::int[], %s::bigint[]) AS t (p, o)
ON CONFLICT (group_id, agent, topic, partition) DO UPDATE
   SET next_offset = GREATEST(agent_checkpoints.next_offset, EXCLUDED.next_offset)"""
_SEED_CHECKPOINTS = """
INSERT INTO agent_checkpoints (group_id, agent, topic, partition, next_offset)
SELECT %s, %s, %s, p, o FROM unnest(%s::int[], %s::bigint[]) AS t (p, o)
ON CONFLICT (group_id, agent, topic, partition) DO NOTHING"""


class CheckpointKey(NamedTuple):
    """Whose checkpoint: one agent of one consumer group, on one topic."""

    group_id: str
    agent: str
    topic: str


class CheckpointQueries(Pooled):
    """Where :class:`app.guard.checkpoints.Checkpoint` keeps its offsets."""

    async def checkpoints(self, key: CheckpointKey, partitions: list[int]) -> dict[int, int]:
        """The next offset ``key``'s agent expects, per partition (saved ones only)."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_CHECKPOINTS, (*key, partitions))
            return dict(await cur.fetchall())

    async def save_checkpoints(self, key: CheckpointKey, next_offsets: dict[int, int]) -> None:
        """Move ``key``'s checkpoints forward (never back) to ``next_offsets``."""
        partitions, offsets = list(next_offsets), list(next_offsets.values())
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_SAVE_CHECKPOINTS, (*key, partitions, offsets))

    async def seed_checkpoints(self, key: CheckpointKey, next_offsets: dict[int, int]) -> None:
        """Give ``key``'s partitions without a checkpoint one at ``next_offsets``."""
        partitions, offsets = list(next_offsets), list(next_offsets.values())
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_SEED_CHECKPOINTS, (*key, partitions, offsets))
