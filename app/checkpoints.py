"""An agent's own checkpoint in PostgreSQL, and the events its stream skipped.

Around a rebalance Faust can ack, and commit past, events its agents never saw
(a message arriving while flow control is suspended, or from an older
generation, is skipped *and* acked; gaps in fetched offsets are marked acked).
So every guarded agent keeps a :class:`Checkpoint` of its own per partition
(``agent_checkpoints``), moved only once a batch is finished. When a batch
starts beyond it, the offsets in between are read back from Kafka and handled
first, in order. Reading back an event that was in fact handled is harmless:
every guarded handler is idempotent, so it is a replay.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterable, Awaitable, Callable, Collection, Sequence
from typing import Any, Protocol, TypeVar, cast

from aiokafka.errors import KafkaError
from faust.types import EventT
from mode.utils.tracebacks import format_task_stack

from app.database import TRANSIENT_ERRORS, CheckpointKey
from app.kafka_reads import ReadBack
from app.retry import retrying

log = logging.getLogger(__name__)

T = TypeVar("T")
#: What an agent does with one batch; it handles its own failures and never raises.
BatchHandler = Callable[[Sequence[EventT]], Awaitable[None]]
#: Most batches read back per stalled partition per audit: a long stall is
#: worked off over several audits rather than held in memory at once.
STALL_BATCHES_PER_AUDIT = 10
#: A batch in hand this long (and again each time as long) has its stack logged.
SLOW_BATCH_S = 60.0


class CheckpointStore(Protocol):
    """Where checkpoints are kept (:class:`app.database.Database`)."""

    async def checkpoints(self, key: CheckpointKey, partitions: list[int]) -> dict[int, int]:
        """The saved next offset per partition, for the partitions that have one."""
        ...

    async def save_checkpoints(self, key: CheckpointKey, next_offsets: dict[int, int]) -> None:
        """Move the checkpoints forward (never back) to ``next_offsets``."""
        ...

    async def seed_checkpoints(self, key: CheckpointKey, next_offsets: dict[int, int]) -> None:
        """Set the checkpoints of partitions that have none to ``next_offsets``."""
        ...


class LogReader(Protocol):
    """How records are read straight from Kafka (:class:`app.kafka_reads.LogReader`)."""

    async def log_bounds(self, topic: str, partitions: list[int]) -> dict[int, range]:
        """The offsets each partition holds now."""
        ...

    async def read_back(self, topic: str, partition: int, wanted: range) -> ReadBack:
        """The records of ``wanted`` offsets of one partition."""
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
    """How far one agent has got on one topic, per partition; brings back what it skipped.

    :meth:`run` is the agent's stream loop; the batch handler it runs calls
    :meth:`with_skipped`, handles what that returns, then calls :meth:`save`
    (a gap that could not be read back whole keeps its checkpoint until the
    next batch). A timer calls :meth:`recover_stalled`. While PostgreSQL is
    unavailable every call waits with backoff, so an agent never runs ahead of
    its checkpoint.
    """

    def __init__(
        self,
        store: CheckpointStore,
        reader: LogReader,
        key: CheckpointKey,
        stall_after_s: float,
        held_back_after_s: float | None = None,
    ) -> None:
        self.store = store
        self.reader = reader
        self.key = key
        self.stall_after_s = stall_after_s
        #: For an agent on a Faust stream: how long one partition may wait while
        #: the others move before it counts as held back (see :meth:`stalled`).
        self.held_back_after_s = held_back_after_s
        #: Held around each batch and by :meth:`recover_stalled`, so the two
        #: never handle events of the same agent at once.
        self.lock = asyncio.Lock()
        #: When a batch last moved each partition (``time.monotonic()``).
        self._moved: dict[int, float] = {}
        #: When the agent last finished any batch (at first: when it was created).
        self._created_at = self._last_batch_at = time.monotonic()
        #: Partitions known to have a checkpoint (rows are never deleted).
        self._seeded: set[int] = set()
        #: Partitions whose gap was not read back whole: :meth:`save` leaves their
        #: checkpoint where it is, so the next batch finds the gap and tries again.
        self._held: frozenset[int] = frozenset()
        #: The checkpoint of each partition as this worker last read or saved it.
        #: Checkpoints only move forward, so a value known here is never ahead of
        #: PostgreSQL's: gaps found from it include every true gap (at worst,
        #: events another worker handled are read back: a replay). It spares a
        #: query per batch; :meth:`forget` drops partitions whose owner changed.
        self._known: dict[int, int] = {}
        #: Per partition an audit found behind its log's end: the checkpoint it
        #: had then, and when it was first seen there (``time.monotonic()``).
        self._behind: dict[int, tuple[int, float]] = {}
        self._what = f"the {key.agent} checkpoints of {key.topic}"

    async def run(self, batches: AsyncIterable[Sequence[EventT]], handle: BatchHandler) -> None:
        """``handle`` each of ``batches`` in turn, while the stream gathers the next one.

        Faust acks a batch when the agent asks for the next one, and gathers
        that next one only then; the gathering costs this process's CPU, the
        handling mostly waits on PostgreSQL and Kafka. Handing each batch to a
        task lets the two overlap; batches are still handled one at a time and
        in order. Kafka's committed offset may then pass a batch still being
        handled, so this checkpoint is what a restart trusts: every partition
        of a batch has one (:meth:`seed`) before the batch is acked, and a
        restarted agent reads back whatever lies between it and its first batch.
        """
        pending: asyncio.Task[None] | None = None
        try:
            async for batch in batches:
                events = list(batch)  # Faust clears its list once the batch is acked
                await self.seed(events)
                if pending is not None:
                    await pending
                pending = asyncio.create_task(self._handle_locked(handle, events))
        finally:
            if pending is not None:
                # Stopping: let the batch finish rather than cut a transaction short.
                await asyncio.shield(pending)

    async def _handle_locked(self, handle: BatchHandler, batch: Sequence[EventT]) -> None:
        """``handle(batch)`` under the lock; a batch held for long has its stack logged.

        A batch that never ends holds the lock, and so stops the agent and its
        stall audit with no error to show (chaos scenario 7 saw one): the stack
        logged every :data:`SLOW_BATCH_S` says which await it is stuck on.
        """
        async with self.lock:
            handling = asyncio.ensure_future(handle(batch))
            try:
                while not (await asyncio.wait({handling}, timeout=SLOW_BATCH_S))[0]:
                    log.warning(
                        "%s: a batch of %d events still in hand after %.0f s more\n%s",
                        self._what,
                        len(batch),
                        SLOW_BATCH_S,
                        format_task_stack(handling),
                    )
            except asyncio.CancelledError:
                handling.cancel()
                raise
            handling.result()

    async def seed(self, batch: Sequence[EventT]) -> None:
        """Give each partition of ``batch`` without a checkpoint one at the start of its log.

        Not at the batch's first offset: Faust can skip (and commit past) a
        partition's very first events around a rebalance, before any batch
        reached the partition (chaos scenario 5: a sign-up produced while a
        worker joined, offset 0 of its partition). From the start of the log,
        where a new group starts reading, :meth:`with_skipped` reads them back.
        A checkpoint already saved is kept (a restart seeds nothing).
        """
        first = first_offsets(offsets_of(batch))
        unseeded = [p for p in first if p not in self._seeded]
        if not unseeded:
            return
        bounds = await retrying(
            lambda: self.reader.log_bounds(self.key.topic, unseeded),
            on=(*TRANSIENT_ERRORS, KafkaError),
            what=f"the log bounds of {self.key.topic}",
        )
        new = {p: min(first[p], bounds[p].start) if p in bounds else first[p] for p in unseeded}
        await self._stored(lambda: self.store.seed_checkpoints(self.key, new))
        self._seeded.update(new)

    async def saved(self, partitions: list[int]) -> dict[int, int]:
        """The saved checkpoint of each of ``partitions`` that has one (waits out outages)."""
        found = await self._stored(lambda: self.store.checkpoints(self.key, partitions))
        for partition, offset in found.items():
            self._known[partition] = max(offset, self._known.get(partition, offset))
        return found

    def forget(self, partitions: Collection[int]) -> None:
        """Read these partitions' checkpoints from PostgreSQL next time (their owner changed)."""
        for partition in partitions:
            self._known.pop(partition, None)
            self._behind.pop(partition, None)  # the new stream gets its own time

    async def _checkpoints_of(self, partitions: list[int]) -> dict[int, int]:
        if all(partition in self._known for partition in partitions):
            return {partition: self._known[partition] for partition in partitions}
        return await self.saved(partitions)

    async def with_skipped(self, batch: Sequence[EventT]) -> Sequence[EventT]:
        """``batch``, with the events skipped since the checkpoint, in offset order."""
        self._held = frozenset()
        offsets = offsets_of(batch)
        missing = gaps(offsets, await self._checkpoints_of(list(first_offsets(offsets))))
        if not missing:
            return batch
        found = [
            (partition, await self._read_back(partition, wanted, found_by="a later batch"))
            for partition, ranges in missing.items()
            for wanted in ranges
        ]
        self._held = frozenset(partition for partition, back in found if not back.complete)
        # A read-back record has everything of an event that the agents use.
        records = [cast(EventT, record) for _, back in found for record in back.records]
        return sorted([*records, *batch], key=lambda e: (e.message.partition, e.message.offset))

    async def save(self, batch: Sequence[EventT]) -> None:
        """Move the checkpoint past ``batch`` (as :meth:`with_skipped` returned it)."""
        after = next_offsets(offsets_of(batch))
        keep = {p: offset for p, offset in after.items() if p not in self._held}
        if keep:
            await self._stored(lambda: self.store.save_checkpoints(self.key, keep))
            for partition, offset in keep.items():
                self._known[partition] = max(offset, self._known.get(partition, offset))
        now = self._last_batch_at = time.monotonic()
        self._moved.update((partition, now) for partition in keep)

    @property
    def audit_every_s(self) -> float:
        """How often :meth:`recover_stalled` should be called."""
        return min(self.stall_after_s, self.held_back_after_s or self.stall_after_s) / 3

    async def stalled(self, partitions: Collection[int]) -> dict[int, range]:
        """Partitions whose stream stopped: events beyond the checkpoint, no batch for a while.

        Seen after a rebalance: the group commits past a partition's last
        events, or never fetches a partition again, and with no batch to
        reveal the gap its events would wait for the next restart. A partition
        counts when it has events beyond its checkpoint and either

        * **stalled**: the agent has finished no batch at all for
          ``stall_after_s``, and none moved the partition for as long. Only
          then: an agent's own consumer drains a long history one partition
          after another, and judged alone, a new group's partitions were read
          back while the consumer was on its way to them; and a consumer that
          delivers nothing may be waiting behind another agent's backlog;
        * **held back** (with ``held_back_after_s``, for an agent on a Faust
          stream): it has been behind at an unmoved checkpoint for
          ``held_back_after_s`` while batches of other partitions were
          finished. A Faust stream hands out every fetched partition's events
          in turn, so one it serves at all moves within moments; it was seen
          to hold back one partition for good after a rebalance while the
          others flowed, and the agent was never idle long enough to look.

        A partition no batch has ever reached (no checkpoint) is judged from
        the start of its log, where a new group starts reading.
        """
        now = time.monotonic()
        owned = set(partitions)
        self._behind = {p: seen for p, seen in self._behind.items() if p in owned}
        idle = now - self._last_batch_at >= self.stall_after_s
        if not owned or not (idle or self.held_back_after_s is not None):
            return {}
        saved = await self.store.checkpoints(self.key, sorted(owned))
        bounds = await self.reader.log_bounds(self.key.topic, sorted(owned))
        now = time.monotonic()
        found = {}
        for partition, bound in bounds.items():
            checkpoint = max(saved.get(partition, bound.start), bound.start)
            if bound.stop <= checkpoint:
                self._behind.pop(partition, None)
                continue
            quiet_since = self._moved.get(partition, self._created_at)
            stalled = idle and now - quiet_since >= self.stall_after_s
            if stalled or self._held_back(partition, checkpoint, now):
                found[partition] = range(checkpoint, bound.stop)
        return found

    def _held_back(self, partition: int, checkpoint: int, now: float) -> bool:
        """Whether ``partition``, behind at ``checkpoint``, waits while batches go by."""
        if self.held_back_after_s is None:
            return False
        seen = self._behind.get(partition)
        if seen is None or seen[0] != checkpoint:
            seen = self._behind[partition] = (checkpoint, now)
        since = seen[1]
        return now - since >= self.held_back_after_s and self._last_batch_at > since

    async def recover_stalled(
        self, partitions: Collection[int], handle: BatchHandler, batch_size: int
    ) -> int:
        """Read back stalled partitions' events and ``handle`` them; how many were handled."""
        try:
            stalled = await self.stalled(partitions)
        except (KafkaError, OSError, *TRANSIENT_ERRORS) as exc:  # the next audit tries again
            log.warning("cannot check %s for stalls (%r)", self._what, exc)
            return 0
        except Exception:  # called by a timer, which must survive to try again
            log.exception("checking %s for stalls failed", self._what)
            return 0
        handled = 0
        for partition, wanted in stalled.items():
            head = range(
                wanted.start, min(wanted.stop, wanted.start + STALL_BATCHES_PER_AUDIT * batch_size)
            )
            back = await self._read_back(partition, head, found_by="the stall audit")
            records = [cast(EventT, record) for record in back.records]
            for start in range(0, len(records), batch_size):
                await self._handle_locked(handle, records[start : start + batch_size])
                handled += len(records[start : start + batch_size])
        return handled

    async def _read_back(self, partition: int, wanted: range, found_by: str) -> ReadBack:
        """The records of ``wanted``; an incomplete read-back when Kafka fails us."""
        where = f"{self.key.topic}:{partition} offsets {wanted}"
        log.warning(
            "%s never reached %s (found by %s); reading them back", where, self.key.agent, found_by
        )
        try:
            return await self.reader.read_back(self.key.topic, partition, wanted)
        except (KafkaError, OSError) as exc:
            log.error("cannot read back %s (%r); the next batch tries again", where, exc)
            return ReadBack([], complete=False)

    async def _stored(self, operation: Callable[[], Awaitable[T]]) -> T:
        return await retrying(operation, on=TRANSIENT_ERRORS, what=self._what)


def describe(event: Any) -> str:
    """``topic:partition:offset`` of an event, for log lines."""
    message = event.message
    return f"{message.topic}:{message.partition}:{message.offset}"
