"""An agent's own checkpoint in PostgreSQL: how far it has got, per partition.

Every guarded agent reads its topic with a consumer of its own that starts
each partition at this checkpoint (:mod:`app.guard.topic_batches`), and moves it
only once a batch is handled and what it produced is durable. So a batch
always starts where the last one ended; Kafka's committed offsets are only
informational. Two checks stand guard over that promise and say so when it
breaks (they never fire in a healthy system: a count above zero is a bug or
an operator's problem to look at):

* **a gap**: a batch starting beyond its partition's checkpoint
  (:meth:`Checkpoint.gaps_in`); the agent reads the partition again from the
  checkpoint, or, when Kafka no longer holds those offsets (retention passed
  them by), records them as lost and moves on;
* **a stall**: events beyond a checkpoint while the agent finished no batch
  for a while (:meth:`Checkpoint.stalled`); the agent's consumer is moved
  back to the checkpoint, which restarts its fetch there.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, Protocol, TypeVar

from aiokafka.errors import KafkaError
from faust.types import EventT

from app.retry import retrying
from app.storage.agent_checkpoints import CheckpointKey
from app.storage.pool import TRANSIENT_ERRORS

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Words each alarm's log line carries, so a fault-injection run can count them.
ALARM_WORDS = {
    "gaps": "GUARD-GAP",
    "lost": "GUARD-LOST",
    "stalls": "GUARD-STALL",
    "deadlines": "GUARD-DEADLINE",
}


class CheckpointStore(Protocol):
    """Where checkpoints are kept (:class:`app.storage.database.Database`)."""

    async def wait_ready(self) -> None:
        """Return once checkpoints can be read and saved (the store is connected)."""
        ...

    async def checkpoints(self, key: CheckpointKey, partitions: list[int]) -> dict[int, int]:
        """The saved next offset per partition, for the partitions that have one."""
        ...

    async def save_checkpoints(self, key: CheckpointKey, next_offsets: dict[int, int]) -> None:
        """Move the checkpoints forward (never back) to ``next_offsets``."""
        ...

    async def seed_checkpoints(self, key: CheckpointKey, next_offsets: dict[int, int]) -> None:
        """Set the checkpoints of partitions that have none to ``next_offsets``."""
        ...


class LogBounds(Protocol):
    """How far each partition's log reaches (:class:`app.kafka.readers.LogReader`)."""

    async def log_bounds(self, topic: str, partitions: list[int]) -> dict[int, range]:
        """The offsets each partition holds now."""
        ...


def offsets_of(batch: Sequence[EventT]) -> list[tuple[int, int]]:
    """The ``(partition, offset)`` of every event of ``batch``."""
    return [(event.message.partition, event.message.offset) for event in batch]


def first_offsets(offsets: list[tuple[int, int]]) -> dict[int, int]:
    """The lowest offset seen per partition in ``(partition, offset)`` pairs."""
    first: dict[int, int] = {}
    for partition, offset in offsets:
        first[partition] = min(offset, first.get(partition, offset))
    return first


def next_offsets(offsets: list[tuple[int, int]]) -> dict[int, int]:
    """The offset after the highest one seen per partition."""
    after: dict[int, int] = {}
    for partition, offset in offsets:
        after[partition] = max(offset + 1, after.get(partition, offset + 1))
    return after


def gaps(offsets: list[tuple[int, int]], checkpoints: dict[int, int]) -> dict[int, list[range]]:
    """Per partition, the offsets missing from a batch's ``(partition, offset)`` pairs.

    Missing: between the checkpoint and the batch's first offset, and any hole
    between the batch's own offsets (our topics are not compacted and their
    producers are not transactional, so a partition's offsets are contiguous).
    Offsets below the checkpoint are a redelivery, not a gap; a partition
    without a checkpoint is checked from its first offset in the batch.
    """
    seen: dict[int, set[int]] = defaultdict(set)
    for partition, offset in offsets:
        seen[partition].add(offset)
    missing: dict[int, list[range]] = {}
    for partition, found in seen.items():
        expected = checkpoints.get(partition, min(found))
        holes = []
        for offset in sorted(found):
            if offset > expected:
                holes.append(range(expected, offset))
            expected = max(expected, offset + 1)
        if holes:
            missing[partition] = holes
    return missing


class Checkpoint:
    """How far one agent has got on one topic, per partition.

    While PostgreSQL is unavailable every call waits with backoff, so an agent
    never runs ahead of its checkpoint.
    """

    def __init__(
        self, store: CheckpointStore, bounds: LogBounds, key: CheckpointKey, stall_after_s: float
    ) -> None:
        self.store = store
        self.bounds = bounds
        self.key = key
        self.stall_after_s = stall_after_s
        #: When a batch last moved each partition (``time.monotonic()``).
        self._moved: dict[int, float] = {}
        #: When the agent last finished any batch (at first: when it was created).
        self._created_at = self._last_batch_at = time.monotonic()
        #: When each partition was last handed to this worker's consumer.
        self._assigned: dict[int, float] = {}
        #: When PostgreSQL or Kafka last failed a call of this checkpoint's.
        self._outage_at = float("-inf")
        #: Partitions known to have a checkpoint (rows are never deleted).
        self._seeded: set[int] = set()
        #: The checkpoint of each partition as this worker last read or saved it.
        #: Checkpoints only move forward, so a value known here is never ahead of
        #: PostgreSQL's; :meth:`saved` refreshes it whenever partitions are assigned.
        self._known: dict[int, int] = {}
        self._what = f"the {key.agent} checkpoints of {key.topic}"

    async def seed(self, batch: Sequence[EventT]) -> None:
        """Give each partition of ``batch`` without a checkpoint one at the start of its log.

        A new agent's consumer starts a partition with no checkpoint at the
        start of its log (``auto_offset_reset``), unless its group committed
        an offset there: the checkpoint then says where the agent really
        started, and :meth:`gaps_in` reports the difference.
        """
        first = first_offsets(offsets_of(batch))
        unseeded = [p for p in first if p not in self._seeded]
        if not unseeded:
            return
        bounds = await retrying(
            lambda: self._noting_outages(self.bounds.log_bounds(self.key.topic, unseeded)),
            on=(*TRANSIENT_ERRORS, KafkaError),
            what=f"the log bounds of {self.key.topic}",
        )
        new = {p: min(first[p], bounds[p].start) if p in bounds else first[p] for p in unseeded}
        await self._stored(lambda: self.store.seed_checkpoints(self.key, new))
        for partition, offset in new.items():
            self._known.setdefault(partition, offset)
        self._seeded.update(new)

    async def saved(self, partitions: list[int]) -> dict[int, int]:
        """The saved checkpoint of each of ``partitions`` that has one (waits out outages)."""
        found = await self._stored(lambda: self.store.checkpoints(self.key, partitions))
        for partition in partitions:
            self._known.pop(partition, None)  # another worker may have moved it meanwhile
        self._known.update(found)
        return found

    def gaps_in(self, batch: Sequence[EventT]) -> dict[int, list[range]]:
        """Offsets missing before or inside ``batch``, per partition (see the module)."""
        return gaps(offsets_of(batch), self._known)

    async def save(self, batch: Sequence[EventT]) -> None:
        """Move the checkpoint past ``batch``."""
        await self.save_at(next_offsets(offsets_of(batch)))

    async def save_at(self, next_offsets: dict[int, int]) -> None:
        """Move the checkpoints of some partitions forward to ``next_offsets``."""
        if next_offsets:
            await self._stored(lambda: self.store.save_checkpoints(self.key, next_offsets))
            for partition, offset in next_offsets.items():
                self._known[partition] = max(offset, self._known.get(partition, offset))
        now = self._last_batch_at = time.monotonic()
        self._moved.update((partition, now) for partition in next_offsets)

    def known(self, partitions: Collection[int]) -> dict[int, int]:
        """The checkpoints of ``partitions`` as this worker knows them."""
        return {p: self._known[p] for p in partitions if p in self._known}

    @property
    def audit_every_s(self) -> float:
        """How often :meth:`stalled` should be asked."""
        return self.stall_after_s / 3

    def assigned(self, partitions: Collection[int]) -> None:
        """``partitions`` were just handed to this worker: their stall clocks start now."""
        now = time.monotonic()
        self._assigned.update((partition, now) for partition in partitions)

    async def stalled(self, partitions: Collection[int]) -> dict[int, range]:
        """Owned partitions with events beyond the checkpoint while the agent stands still.

        A partition counts once the agent has finished no batch at all for
        ``stall_after_s``, and none moved the partition for as long since it was
        assigned here and since PostgreSQL or Kafka last failed a call: an
        agent waiting out an outage, or a consumer still fetching a partition it
        was just given, is not stalled. Only then: a consumer draining a long
        history moves one partition after another, and while it delivers
        anything it is not stalled.
        """
        owned = sorted(partitions)
        now = time.monotonic()
        if not owned or now - self._last_batch_at < self.stall_after_s:
            return {}
        saved = await self._noting_outages(self.store.checkpoints(self.key, owned))
        bounds = await self._noting_outages(self.bounds.log_bounds(self.key.topic, owned))
        found = {}
        for partition, bound in bounds.items():
            checkpoint = max(saved.get(partition, bound.start), bound.start)
            quiet_since = max(
                self._moved.get(partition, self._created_at),
                self._assigned.get(partition, self._created_at),
                self._outage_at,
            )
            if bound.stop > checkpoint and now - quiet_since >= self.stall_after_s:
                found[partition] = range(checkpoint, bound.stop)
        return found

    async def _noting_outages(self, call: Awaitable[T]) -> T:
        """``call``'s answer; a transient failure is remembered (see :meth:`stalled`)."""
        try:
            return await call
        except (*TRANSIENT_ERRORS, KafkaError, OSError):
            self._outage_at = time.monotonic()
            raise

    async def _stored(self, operation: Callable[[], Awaitable[T]]) -> T:
        return await retrying(
            lambda: self._noting_outages(operation()), on=TRANSIENT_ERRORS, what=self._what
        )


def describe(event: Any) -> str:
    """``topic:partition:offset`` of an event, for log lines."""
    message = event.message
    return f"{message.topic}:{message.partition}:{message.offset}"
