"""Sweeps: deleting a table's expired keys (or rewriting them), by the partition's active
owner only.

A key that should leave a table (a final status past its retention) must leave
every copy: the owner's database, the standbys' and whatever recovers the
partition later. So it is deleted through the Faust table, which writes a
tombstone to the changelog, and only by the worker that actively owns the
partition (:mod:`app.guard.table_ownership`), exactly like the agent feeding
the table writes it; a standby never deletes, it applies the tombstone.

A sweep reads the owned partitions a chunk of keys at a time, each chunk read
and deleted without an await in between, and checks before each chunk that the
assignment is still the one it started under: a rebalance stops it, and the
revocation's flush (:meth:`app.guard.feeds.TableFeed.pause`) pushes out the
tombstones already written. Each chunk's are in Kafka before the next chunk is read
(:mod:`app.guard.changelog_receipts`), so a sweep of thousands of keys adds at most
one chunk to the producer's buffer, ahead of the agents' entries. A sweep
may also rewrite a value (:meth:`TableSweep.renew`: a trending shard loses the
viewers that left every window), the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from faust.types import EventT, TableT

from app.guard.changelog_receipts import collecting_receipts, receipts_in_kafka
from app.guard.guarded import acting_on
from app.guard.table_ownership import TableOwnership
from app.table_store import SharedMemoryStore

#: Whether a stored value (its raw bytes) has expired.
Expired = Callable[[bytes], bool]
#: What a renewal answers for a value it leaves as it is.
KEEP: Any = object()
#: What becomes of a stored value (its raw bytes): :data:`KEEP`, None (delete the
#: key) or the value to store instead.
Renewal = Callable[[bytes], Any]


@dataclass
class _PartitionPlace:
    """Stands for an event of ``topic``'s ``partition`` for work that is no event's (a
    timer): what Faust reads of the current event to place a table write. ``topic`` is the
    table's feeding topic, co-partitioned with its changelog, which Faust checks."""

    topic: str
    partition: int

    @property
    def message(self) -> _PartitionPlace:
        return self


class TableSweep:
    """Deletes expired keys of ``table`` (fed by ``feeding_topic``) on the partitions owned."""

    def __init__(
        self,
        ownership: TableOwnership,
        table: TableT,
        feeding_topic: str,
        chunk: int = 1000,
    ) -> None:
        self.ownership = ownership
        self.table = table
        self.feeding_topic = feeding_topic
        #: Keys read (and deleted) between two awaits.
        self.chunk = chunk

    async def run(self, expired: Expired) -> int:
        """One pass over the partitions this worker owns, deleting the keys whose value
        ``expired`` says has; the number deleted."""
        return await self.renew(lambda value: None if expired(value) else KEEP)

    async def renew(self, renewal: Renewal) -> int:
        """One pass over the partitions this worker owns, storing what ``renewal`` makes
        of each value (deleting the key for None, leaving it for :data:`KEEP`); the
        number of keys changed."""
        store = self.table.data
        if not isinstance(store, SharedMemoryStore):
            return 0  # a memory store (unit tests) keeps no partitioned databases
        generation = self.ownership.generation
        changed = 0
        with collecting_receipts():
            for partition in sorted(self.ownership.owned(self.table)):
                changed += await self._sweep_partition(store, partition, generation, renewal)
        return changed

    async def _sweep_partition(
        self, store: SharedMemoryStore, partition: int, generation: int, renewal: Renewal
    ) -> int:
        changed, after = 0, None
        while self._still_owner(generation):
            items = store.partition_items(partition, after, self.chunk)
            if not items:
                break
            renewed = [(key, new) for key, value in items if (new := renewal(value)) is not KEEP]
            place: EventT = _PartitionPlace(self.feeding_topic, partition)  # type: ignore[assignment]
            with acting_on(place):
                for key, value in renewed:
                    if value is None:
                        del self.table[key]
                    else:
                        self.table[key] = value
            changed += len(renewed)
            after = items[-1][0]
            # The chunk's entries in Kafka before the next chunk: a sweep never fills the
            # producer's buffer ahead of the agents' entries by more than one chunk.
            await receipts_in_kafka()
            await asyncio.sleep(0)  # the agents and the web go on between chunks
        return changed

    def _still_owner(self, generation: int) -> bool:
        return self.ownership.settled and self.ownership.generation == generation
