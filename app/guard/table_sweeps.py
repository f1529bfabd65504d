"""Sweeps: deleting a table's expired keys, by the partition's active owner only.

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
tombstones already written. Those it wrote are flushed when it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from faust.types import EventT, TableT

from app.guard.guarded import acting_on
from app.guard.table_ownership import TableOwnership
from app.table_store import SharedMemoryStore

#: Whether a stored value (its raw bytes) has expired.
Expired = Callable[[bytes], bool]


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
        store = self.table.data
        if not isinstance(store, SharedMemoryStore):
            return 0  # a memory store (unit tests) keeps no partitioned databases
        generation = self.ownership.generation
        deleted = 0
        try:
            for partition in sorted(self.ownership.owned(self.table)):
                deleted += await self._sweep_partition(store, partition, generation, expired)
        finally:
            if deleted:
                await self.ownership.app.producer.flush()
        return deleted

    async def _sweep_partition(
        self, store: SharedMemoryStore, partition: int, generation: int, expired: Expired
    ) -> int:
        deleted, after = 0, None
        while self._still_owner(generation):
            items = store.partition_items(partition, after, self.chunk)
            if not items:
                break
            gone = [key for key, value in items if expired(value)]
            place: EventT = _PartitionPlace(self.feeding_topic, partition)  # type: ignore[assignment]
            with acting_on(place):
                for key in gone:
                    del self.table[key]
            deleted += len(gone)
            after = items[-1][0]
            await asyncio.sleep(0)  # the agents and the web go on between chunks
        return deleted

    def _still_owner(self, generation: int) -> bool:
        return self.ownership.settled and self.ownership.generation == generation
