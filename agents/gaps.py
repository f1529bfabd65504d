"""An agent's own checkpoint, and the events its stream skipped, read back from Kafka.

Around a rebalance Faust can ack, and commit past, events its agents never saw
(a message arriving while flow control is suspended, or from an older
generation, is skipped *and* acked; gaps in fetched offsets are marked acked).
So every agent that must see every event (processing, the logging agents)
keeps a :class:`Checkpoint` of its own in PostgreSQL (``agent_checkpoints``),
moved only once a batch is finished. When a batch starts beyond it, the offsets
in between are read straight from Kafka here and handled first, in order.
Reading back an event that was in fact handled is harmless: every sink is
idempotent, so it is a replay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterable, Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from faust.types import AppT, EventT

from app.database import TRANSIENT_ERRORS, CheckpointKey, while_unavailable
from app.settings import Settings

log = logging.getLogger(__name__)

#: Longest a read-back may go without receiving anything before it gives up on
#: the rest of the range (the checkpoint stays, so the next batch finds the gap
#: again and retries).
IDLE_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Record:
    """A Kafka record read back, shaped like the parts of a Faust event we use."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    #: Seconds since the epoch, as Faust gives a message's timestamp.
    timestamp: float | None

    @property
    def message(self) -> Record:
        """Faust events keep their record as ``.message``; a record is its own."""
        return self


@dataclass(frozen=True, slots=True)
class ReadBack:
    """The records read back from one partition's gap, and whether all of it was read."""

    records: list[Record]
    complete: bool


#: What an agent does with one batch (the same function its stream loop calls);
#: it handles its own failures and never raises.
BatchHandler = Callable[[Sequence[EventT]], Awaitable[None]]


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

    One instance per agent. The agent's stream loop is :meth:`run`; its batch
    handler calls :meth:`with_skipped`, handles what that returns, then calls
    :meth:`save` (a gap that could not be read back whole keeps its checkpoint
    until the next batch). A timer calls :meth:`recover_stalled`.
    While PostgreSQL is unavailable every call waits with backoff, so an agent
    never runs ahead of its checkpoint.
    """

    def __init__(self, store: CheckpointStore, settings: Settings, key: CheckpointKey) -> None:
        self.store = store
        self.settings = settings
        self.key = key
        #: Held by the agent around each batch and by :meth:`recover_stalled`,
        #: so the two never handle events of the same agent at once.
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
        async with self.lock:
            await handle(batch)

    async def seed(self, batch: Sequence[EventT]) -> None:
        """Give each partition of ``batch`` without a checkpoint one at its first offset here."""
        first = first_offsets(offsets_of(batch))
        new = {
            partition: offset
            for partition, offset in first.items()
            if partition not in self._seeded
        }
        if new:
            await while_unavailable(lambda: self.store.seed_checkpoints(self.key, new), self._what)
            self._seeded.update(new)

    async def with_skipped(self, batch: Sequence[EventT]) -> Sequence[EventT]:
        """``batch``, with the events skipped since the checkpoint, in offset order."""
        self._held = frozenset()
        offsets = offsets_of(batch)
        partitions = list(first_offsets(offsets))
        saved = await while_unavailable(
            lambda: self.store.checkpoints(self.key, partitions), self._what
        )
        missing = gaps(offsets, saved)
        if not missing:
            return batch
        found = [
            (partition, await self._read_back(partition, wanted))
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
            await while_unavailable(lambda: self.store.save_checkpoints(self.key, keep), self._what)
        now = self._last_batch_at = time.monotonic()
        self._moved.update((partition, now) for partition in keep)

    async def stalled(self, partitions: Collection[int]) -> dict[int, range]:
        """Partitions whose stream stopped: events beyond the checkpoint, no batch for a while.

        Seen after a rebalance: the group commits past a partition's last
        events (or never fetches them) and, with no later event to reveal the
        gap, they would wait for the next restart. Partitions are judged only
        once the agent has finished no batch at all for
        :attr:`Settings.stall_after_s`, and count only if no batch moved them
        for as long: a stream that is merely busy (a new group working through
        a long history, say) is left alone rather than read twice over. A
        partition no batch has ever reached (no checkpoint) is judged from the
        start of its log, where a new group starts reading.
        """
        if not partitions or time.monotonic() - self._last_batch_at < self.settings.stall_after_s:
            return {}
        saved = await self.store.checkpoints(self.key, sorted(partitions))
        bounds = await log_bounds(self.settings, self.key.topic, sorted(partitions))
        now = time.monotonic()
        found = {}
        for partition, log in bounds.items():
            checkpoint = max(saved.get(partition, log.start), log.start)
            quiet_since = self._moved.get(partition, self._created_at)
            if log.stop > checkpoint and now - quiet_since >= self.settings.stall_after_s:
                found[partition] = range(checkpoint, log.stop)
        return found

    async def recover_stalled(
        self, partitions: Collection[int], handle: BatchHandler, batch_size: int
    ) -> int:
        """Read back stalled partitions' events and ``handle`` them; how many were handled.

        At most ten batches per partition per call: a long stall is worked off
        over several calls rather than held in memory at once.
        """
        try:
            stalled = await self.stalled(partitions)
        except (KafkaError, OSError, *TRANSIENT_ERRORS) as exc:  # the next call tries again
            log.warning("cannot check %s for stalls (%r)", self._what, exc)
            return 0
        except Exception:  # called by a timer, which must survive to try again
            log.exception("checking %s for stalls failed", self._what)
            return 0
        handled = 0
        for partition, wanted in stalled.items():
            head = range(wanted.start, min(wanted.stop, wanted.start + 10 * batch_size))
            back = await self._read_back(partition, head)
            records = [cast(EventT, record) for record in back.records]
            for start in range(0, len(records), batch_size):
                async with self.lock:
                    await handle(records[start : start + batch_size])  # never raises
                handled += len(records[start : start + batch_size])
        return handled

    async def _read_back(self, partition: int, wanted: range) -> ReadBack:
        """The records of ``wanted``; an incomplete read-back when Kafka fails us."""
        where = f"{self.key.topic}:{partition} offsets {wanted}"
        log.warning("%s never reached %s; reading them back", where, self.key.agent)
        try:
            return await read_back(self.settings, self.key.topic, partition, wanted)
        except (KafkaError, OSError) as exc:
            log.error("cannot read back %s (%r); the next batch tries again", where, exc)
            return ReadBack([], complete=False)


def assigned_partitions(faust_app: AppT, topic: str) -> set[int]:
    """The partitions of ``topic`` this worker actively owns (none while rebalancing)."""
    if faust_app.rebalancing:
        return set()
    return {tp.partition for tp in faust_app.assignor.assigned_actives() if tp.topic == topic}


_offsets_reader: AIOKafkaConsumer | None = None
#: Every guarded agent's timer asks at once at start-up: one consumer for all.
_offsets_reader_lock = asyncio.Lock()


async def log_bounds(settings: Settings, topic: str, partitions: list[int]) -> dict[int, range]:
    """The offsets each of ``partitions`` holds now, first to last (one consumer per process)."""
    if not partitions:
        return {}
    reader = await _shared_reader(settings)
    tps = [TopicPartition(topic, p) for p in partitions]
    try:
        starts = await reader.beginning_offsets(tps)
        ends = await reader.end_offsets(tps)
    except KafkaError:
        await close_offsets_reader()  # a fresh consumer next time
        raise
    return {tp.partition: range(starts[tp], ends[tp]) for tp in tps}


async def _shared_reader(settings: Settings) -> AIOKafkaConsumer:
    global _offsets_reader
    async with _offsets_reader_lock:
        if _offsets_reader is None:
            reader = AIOKafkaConsumer(
                bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False
            )
            try:
                await reader.start()
            except KafkaError:
                with contextlib.suppress(asyncio.CancelledError, KafkaError):
                    await reader.stop()
                raise
            _offsets_reader = reader
        return _offsets_reader


async def close_offsets_reader(*_: Any, **__: Any) -> None:
    """Stop the consumer :func:`log_bounds` keeps (connect to the app's shutdown signal)."""
    global _offsets_reader
    reader, _offsets_reader = _offsets_reader, None
    if reader is not None:
        with contextlib.suppress(asyncio.CancelledError, KafkaError):
            await reader.stop()


async def read_back(settings: Settings, topic: str, partition: int, wanted: range) -> ReadBack:
    """The records of ``wanted`` offsets of one partition, in order."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024**2,
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, wanted.start)
        return await _collect(consumer, tp, wanted)
    finally:
        # aiokafka 0.14 without a group re-raises its housekeeping task's cancellation.
        with contextlib.suppress(asyncio.CancelledError):
            await consumer.stop()


async def _collect(consumer: AIOKafkaConsumer, tp: TopicPartition, wanted: range) -> ReadBack:
    records: list[Record] = []
    position = wanted.start
    while position < wanted.stop:
        fetched = (await consumer.getmany(tp, timeout_ms=int(IDLE_TIMEOUT_S * 1000))).get(tp, [])
        if not fetched:
            log.error("read-back of %s stopped at %d of %s", tp, position, wanted)
            return ReadBack(records, complete=False)
        for record in fetched:
            if record.offset >= wanted.stop:
                return ReadBack(records, complete=True)
            records.append(_record(tp, record))
            position = record.offset + 1
    return ReadBack(records, complete=True)


def _record(tp: TopicPartition, record: ConsumerRecord) -> Record:
    # Faust gives seconds; aiokafka gives milliseconds.
    seconds = None if record.timestamp is None else record.timestamp / 1000
    return Record(tp.topic, tp.partition, record.offset, record.key, record.value, seconds)
