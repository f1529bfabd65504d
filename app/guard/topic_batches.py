"""Batches of one topic's records straight from Kafka, for a guarded agent that writes no table.

Faust hands an agent its events one at a time: fetched on the consumer's
thread, woken into the event loop, dispatched by the conductor to a channel
queue, iterated by the stream with a sensor call and an ack each, then
gathered again by ``take_events`` into a batch. For a batch handler that is
all overhead: measured on the processing agent, two thirds of the process's
CPU per event. A :class:`TopicBatches` reads the topic with an aiokafka
consumer of its own, in the worker's event loop, and yields the batches
directly.

What Faust did for the agent, it does itself:

* **its own consumer group** (``<group>.<agent>``): workers of one role split
  the topic's partitions, as they split them in the role's group;
* **where to start**: on assignment each partition is moved to the agent's
  checkpoint in PostgreSQL, the only record of what was handled (Kafka's
  committed offset is then informational, committed every few seconds and on
  revocation, never past the checkpoint);
* **batches** like ``take_events``: up to ``batch_size`` records, gathered for
  at most ``batch_wait_s``. The broker does the gathering: it answers a fetch
  once it holds ``fetch_min_bytes`` or ``batch_wait_s`` has passed, so a busy
  topic costs one fetch per ``batch_wait_s``, not one per event;
* **an idle topic's wait**: once a whole poll brought nothing, the consumer
  asks the broker to answer at the first byte or after
  :data:`IDLE_FETCH_WAIT_MS`, and gathers again from the next record on. An
  idle agent then costs one fetch a second instead of one per
  ``batch_wait_s``: at 50 ms, the fetches of its four table agents were most
  of an idle API worker's CPU (py-spy), which this halves (docs/benchmarks.md);
  and the first event after a quiet spell waits for no batch window.

Two ways to be given partitions:

* **by the consumer's own group** (:meth:`TopicBatches.start` with
  ``subscribe=True``): workers of one role split the topic among themselves;
* **by the caller** (:meth:`TopicBatches.assign`), for an agent that writes a
  Faust table: it must handle exactly the partitions whose table partitions
  Faust's group gave this worker (:mod:`app.guard.table_ownership`). Its consumer
  still commits under its group id, so lag is visible, but never joins it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from app.kafka.readers import Record, as_record

log = logging.getLogger(__name__)

#: Kafka's committed offsets follow the checkpoints this often (seconds).
COMMIT_EVERY_S = 5.0
#: Longest the loop waits for records before it checks in again (to commit, or to stop).
IDLE_POLL_MS = 250
#: How long the broker may hold an idle consumer's fetch (it answers at the first byte).
IDLE_FETCH_WAIT_MS = 1000
#: What tells the source the checkpoints of some partitions.
CheckpointsOf = Callable[[list[int]], Awaitable[dict[int, int]]]


def feed_group(role_group: str, agent_name: str) -> str:
    """The consumer group of an agent's own consumer, within its role's group."""
    return f"{role_group}.{agent_name}"


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    """How a batch consumer talks to Kafka."""

    bootstrap_servers: str
    group_id: str
    instance_id: str | None
    session_timeout_s: float
    #: The broker answers a fetch once it holds this much, or after the batch wait.
    fetch_min_bytes: int


class TopicBatches:
    """Batches of one topic for one agent, from a consumer (and group) of its own."""

    def __init__(
        self,
        topic: str,
        consumer: ConsumerSettings,
        batch_size: int,
        batch_wait_s: float,
        checkpoints: CheckpointsOf,
        assigned: Callable[[Collection[int]], None] = lambda partitions: None,
    ) -> None:
        self.topic = topic
        self.settings = consumer
        self.batch_size = batch_size
        self.batch_wait_ms = max(1, int(batch_wait_s * 1000))
        self.checkpoints = checkpoints
        #: Told which partitions were just assigned (their stall clocks restart).
        self.assigned = assigned
        self._consumer: AIOKafkaConsumer | None = None
        self._next_commit = 0.0
        #: Set by :meth:`close`: :meth:`batches` ends after the fetch in hand.
        self.closing = False
        self.closed = asyncio.Event()
        #: The offset last committed per partition (the agent's checkpoint then).
        self._committed: dict[int, int] = {}
        #: While the consumer's group moves partitions (a subscribed consumer only).
        self.rebalancing = False
        #: Whether the consumer's fetches wait for the first byte (idle), not for a batch.
        self.idle = False

    @property
    def started(self) -> bool:
        """Whether the consumer is connected."""
        return self._consumer is not None

    def assignment(self) -> set[int]:
        """The partitions this worker's consumer owns now."""
        if self._consumer is None:
            return set()
        return {tp.partition for tp in self._consumer.assignment()}

    def lag(self) -> int:
        """Records of the owned partitions beyond the last committed checkpoints (dashboard)."""
        if self._consumer is None:
            return 0
        behind = 0
        for tp in self._consumer.assignment():
            end, done = self._consumer.highwater(tp), self._committed.get(tp.partition)
            if end is not None and done is not None:
                behind += max(0, end - done)
        return behind

    async def start(self, subscribe: bool = True) -> None:
        """Connect; with ``subscribe``, join the group (the topic may not exist yet: it is
        waited for), else wait for :meth:`assign`."""
        s = self.settings
        consumer = AIOKafkaConsumer(
            bootstrap_servers=s.bootstrap_servers,
            group_id=s.group_id,
            group_instance_id=s.instance_id if subscribe else None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.batch_size,
            fetch_min_bytes=s.fetch_min_bytes,
            fetch_max_wait_ms=self.batch_wait_ms,
            session_timeout_ms=int(s.session_timeout_s * 1000),
            heartbeat_interval_ms=int(s.session_timeout_s * 1000 / 5),
            # A topic created after the consumer started is noticed this fast.
            metadata_max_age_ms=5000,
        )
        try:
            await consumer.start()
        except BaseException:
            await consumer.stop()
            raise
        if subscribe:
            consumer.subscribe([self.topic], listener=_Rebalance(self))
        self._consumer = consumer
        self.idle = False

    async def assign(self, partitions: set[int]) -> None:
        """Read exactly ``partitions``, each from its checkpoint (a caller's assignment)."""
        if self._consumer is None:
            return
        tps = {TopicPartition(self.topic, p) for p in partitions}
        self._consumer.assign(sorted(tps))
        await self.seek_to_checkpoints(tps)

    async def unassign(self) -> None:
        """Commit how far the checkpoints got and read nothing until the next :meth:`assign`."""
        if self._consumer is None:
            return
        await self._commit(self._consumer, self._consumer.assignment())
        self._consumer.assign([])

    def rewind(self, positions: dict[int, int]) -> None:
        """Read these owned partitions again from the given offsets."""
        if self._consumer is None:
            return
        owned = self._consumer.assignment()
        for partition, offset in positions.items():
            tp = TopicPartition(self.topic, partition)
            if tp in owned:
                self._consumer.seek(tp, offset)

    async def stop(self) -> None:
        """Commit how far the checkpoints got, and leave the group."""
        consumer, self._consumer = self._consumer, None
        if consumer is None:
            return
        try:
            await self._commit(consumer, consumer.assignment())
        finally:
            await consumer.stop()

    def close(self) -> None:
        """Let :meth:`batches` end (within :data:`IDLE_POLL_MS`); :meth:`stop` follows."""
        self.closing = True
        self.closed.set()

    async def batches(
        self, current: Callable[[], bool] = lambda: True
    ) -> AsyncIterator[list[Record]]:
        """Batches as they come, until :meth:`close` or while ``current()``; Kafka's offsets
        committed along the way."""
        while self._consumer is not None and not self.closing and current():
            batch = await self._gather(self._consumer)
            if batch:
                yield batch
            await self._commit_now_and_then(self._consumer)

    async def _gather(self, consumer: AIOKafkaConsumer) -> list[Record]:
        """Up to ``batch_size`` records: what the last fetches brought (none after a while)."""
        fetched = await consumer.getmany(timeout_ms=IDLE_POLL_MS, max_records=self.batch_size)
        if bool(fetched) == self.idle:  # became idle, or busy again
            self._fetch_when(consumer, idle=not fetched)
        return [as_record(tp, record) for tp, records in fetched.items() for record in records]

    def _fetch_when(self, consumer: AIOKafkaConsumer, idle: bool) -> None:
        """Idle: fetches answered at the first byte, held up to :data:`IDLE_FETCH_WAIT_MS`;
        else gathered up to ``fetch_min_bytes`` for at most the batch wait.

        aiokafka takes both once, at start, but its fetcher reads them into each
        fetch request it builds: set here, they shape the next request (after
        records arrived, that one is built only once they were taken).
        """
        fetcher = consumer._fetcher
        if idle:
            fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms = 1, IDLE_FETCH_WAIT_MS
        else:
            fetcher._fetch_min_bytes = self.settings.fetch_min_bytes
            fetcher._fetch_max_wait_ms = self.batch_wait_ms
        self.idle = idle

    async def _commit_now_and_then(self, consumer: AIOKafkaConsumer) -> None:
        now = asyncio.get_running_loop().time()
        if now >= self._next_commit:
            self._next_commit = now + COMMIT_EVERY_S
            await self._commit(consumer, consumer.assignment())

    async def _commit(self, consumer: AIOKafkaConsumer, partitions: set[TopicPartition]) -> None:
        """Commit each partition's checkpoint: what the agent finished, never more."""
        mine = sorted(tp.partition for tp in partitions if tp.topic == self.topic)
        if not mine:
            return
        try:
            saved = await self.checkpoints(mine)
            offsets = {
                TopicPartition(self.topic, p): OffsetAndMetadata(o, "")
                for p, o in saved.items()
                if self._committed.get(p) != o  # a quiet partition costs no request
            }
            if offsets:
                await consumer.commit(offsets)
                self._committed.update(saved)
        except (KafkaError, OSError) as exc:  # informational only: the next one will do
            log.warning("cannot commit %s offsets (%r)", self.settings.group_id, exc)

    async def seek_to_checkpoints(self, partitions: set[TopicPartition]) -> None:
        """Start each newly assigned partition at the agent's checkpoint, when it has one."""
        mine = sorted(tp.partition for tp in partitions if tp.topic == self.topic)
        if not mine or self._consumer is None:
            return
        self.assigned(mine)
        for partition in mine:  # another member may have committed meanwhile
            self._committed.pop(partition, None)
        for partition, offset in (await self.checkpoints(mine)).items():
            self._consumer.seek(TopicPartition(self.topic, partition), offset)


class _Rebalance(ConsumerRebalanceListener):
    """Commits before partitions leave; seeks to the checkpoints when they arrive."""

    def __init__(self, source: TopicBatches) -> None:
        self.source = source

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.source.rebalancing = True
        consumer = self.source._consumer
        if consumer is not None:
            await self.source._commit(consumer, revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.source.seek_to_checkpoints(assigned)
        self.source.rebalancing = False
