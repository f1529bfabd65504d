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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from faust.types import EventT

from app.database import CheckpointKey, while_unavailable
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


class CheckpointStore(Protocol):
    """Where checkpoints are kept (:class:`app.database.Database`)."""

    async def checkpoints(self, key: CheckpointKey, partitions: list[int]) -> dict[int, int]:
        """The saved next offset per partition, for the partitions that have one."""
        ...

    async def save_checkpoints(self, key: CheckpointKey, next_offsets: dict[int, int]) -> None:
        """Move the checkpoints forward (never back) to ``next_offsets``."""
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


def gaps(first: dict[int, int], checkpoints: dict[int, int]) -> dict[int, range]:
    """Per partition, the offsets between the checkpoint and the batch's first one."""
    return {
        partition: range(checkpoints[partition], offset)
        for partition, offset in first.items()
        if partition in checkpoints and offset > checkpoints[partition]
    }


class Checkpoint:
    """How far one agent has got on one topic, per partition; brings back what it skipped.

    For each batch call :meth:`with_skipped`, handle what it returns, then
    :meth:`save` it. One instance per agent, whose concurrency stays 1: a gap
    that could not be read back whole is remembered from one call to the next.
    While PostgreSQL is unavailable both calls wait with backoff, so an agent
    never runs ahead of its checkpoint.
    """

    def __init__(self, store: CheckpointStore, settings: Settings, key: CheckpointKey) -> None:
        self.store = store
        self.settings = settings
        self.key = key
        #: Partitions whose gap was not read back whole: :meth:`save` leaves their
        #: checkpoint where it is, so the next batch finds the gap and tries again.
        self._held: frozenset[int] = frozenset()
        self._what = f"the {key.agent} checkpoints of {key.topic}"

    async def with_skipped(self, batch: Sequence[EventT]) -> Sequence[EventT]:
        """``batch``, with the events skipped since the checkpoint, in offset order."""
        self._held = frozenset()
        first = first_offsets(offsets_of(batch))
        saved = await while_unavailable(
            lambda: self.store.checkpoints(self.key, list(first)), self._what
        )
        missing = gaps(first, saved)
        if not missing:
            return batch
        found = [await self._read_back(partition, wanted) for partition, wanted in missing.items()]
        self._held = frozenset(p for p, back in zip(missing, found) if not back.complete)
        # A read-back record has everything of an event that the agents use.
        records = [cast(EventT, record) for back in found for record in back.records]
        return sorted([*records, *batch], key=lambda e: (e.message.partition, e.message.offset))

    async def save(self, batch: Sequence[EventT]) -> None:
        """Move the checkpoint past ``batch`` (as :meth:`with_skipped` returned it)."""
        after = next_offsets(offsets_of(batch))
        keep = {p: offset for p, offset in after.items() if p not in self._held}
        if keep:
            await while_unavailable(lambda: self.store.save_checkpoints(self.key, keep), self._what)

    async def _read_back(self, partition: int, wanted: range) -> ReadBack:
        """The records of ``wanted``; an incomplete read-back when Kafka fails us."""
        where = f"{self.key.topic}:{partition} offsets {wanted}"
        log.warning("%s never reached %s; reading them back", where, self.key.agent)
        try:
            return await read_back(self.settings, self.key.topic, partition, wanted)
        except KafkaError as exc:
            log.error("cannot read back %s (%r); the next batch tries again", where, exc)
            return ReadBack([], complete=False)


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
