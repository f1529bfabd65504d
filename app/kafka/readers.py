"""Reading a topic's records straight from Kafka, outside Faust: bounds and read-backs.

Guarded agents (:mod:`app.guard.guarded`) use it to fetch the events their stream
skipped, and to see how far each partition's log reaches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)

#: Longest a read-back may go without receiving anything before it gives up on
#: the rest of the range (the caller's checkpoint stays, so it is tried again).
IDLE_TIMEOUT_S = 10.0
#: Largest fetch of one read-back: a gap is read in few round trips.
FETCH_BYTES = 8 * 1024**2


# A weakref slot: a read-back record can stand in as Faust's current event
# (``app.guard.guarded.acting_on``), which Faust holds by weak reference.
@dataclass(frozen=True, slots=True, weakref_slot=True)
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


class LogReader:
    """Reads partitions' bounds and ranges of records, each call on its own terms.

    Bounds come from one consumer kept for the whole process (every guarded
    agent's stall timer asks at once at start-up); a read-back uses a consumer
    of its own, closed when done.
    """

    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap = bootstrap_servers
        self._bounds_reader: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()

    async def log_bounds(self, topic: str, partitions: list[int]) -> dict[int, range]:
        """The offsets each of ``partitions`` holds now, first to last."""
        if not partitions:
            return {}
        reader = await self._shared_reader()
        tps = [TopicPartition(topic, p) for p in partitions]
        try:
            starts = await reader.beginning_offsets(tps)
            ends = await reader.end_offsets(tps)
        except KafkaError:
            await self.close()  # a fresh consumer next time
            raise
        return {tp.partition: range(starts[tp], ends[tp]) for tp in tps}

    async def read_back(self, topic: str, partition: int, wanted: range) -> ReadBack:
        """The records of ``wanted`` offsets of one partition, in order."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=FETCH_BYTES,
        )
        await consumer.start()
        try:
            tp = TopicPartition(topic, partition)
            consumer.assign([tp])
            consumer.seek(tp, wanted.start)
            return await _collect(consumer, tp, wanted)
        finally:
            await stop_consumer(consumer)

    async def close(self) -> None:
        """Stop the consumer kept for bounds (a new one is made on next use)."""
        reader, self._bounds_reader = self._bounds_reader, None
        if reader is not None:
            await stop_consumer(reader)

    async def _shared_reader(self) -> AIOKafkaConsumer:
        async with self._lock:
            if self._bounds_reader is None:
                reader = AIOKafkaConsumer(
                    bootstrap_servers=self._bootstrap, enable_auto_commit=False
                )
                try:
                    await reader.start()
                except KafkaError:
                    await stop_consumer(reader)
                    raise
                self._bounds_reader = reader
            return self._bounds_reader


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
            records.append(as_record(tp, record))
            position = record.offset + 1
    return ReadBack(records, complete=True)


async def unlisted_topics(bootstrap_servers: str, names: Collection[str]) -> list[str]:
    """Those of ``names`` that Kafka's metadata does not list yet (with their partitions).

    A topic just created is listed a moment later: a consumer asking before
    that does not see it.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    try:
        await consumer.start()
        listed = await consumer.topics()
    finally:
        await stop_consumer(consumer)
    return sorted(set(names) - listed)


def as_record(tp: TopicPartition, record: ConsumerRecord) -> Record:
    """An aiokafka record as a :class:`Record` (its time in seconds, as Faust gives it)."""
    seconds = None if record.timestamp is None else record.timestamp / 1000
    return Record(tp.topic, tp.partition, record.offset, record.key, record.value, seconds)


async def stop_consumer(consumer: AIOKafkaConsumer) -> None:
    """Stop a consumer made without a group, quietly."""
    # aiokafka 0.14 without a group re-raises its housekeeping task's cancellation.
    with contextlib.suppress(asyncio.CancelledError, KafkaError):
        await consumer.stop()
