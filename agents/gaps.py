"""Events the stream skipped, found by the processing checkpoint and read back.

Around a rebalance Faust can ack, and commit past, events its agents never
saw (a message arriving while flow control is suspended, or from an older
generation, is skipped *and* acked; gaps in fetched offsets are marked acked).
The processing agent keeps its own checkpoint in PostgreSQL
(``processing_checkpoints``); when a batch starts beyond it, the offsets in
between are read straight from Kafka here and processed first, in order.
Re-reading an event that was in fact applied is harmless: it is a replay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from app.settings import Settings

log = logging.getLogger(__name__)

#: Longest a read-back may go without receiving anything before it gives up on
#: the rest of the range (the next batch finds the gap again and retries).
IDLE_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Record:
    """A Kafka record read back, shaped like the parts of a Faust event we use."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes

    @property
    def message(self) -> Record:
        """Faust events keep their record as ``.message``; a record is its own."""
        return self


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


async def read_back(settings: Settings, topic: str, partition: int, wanted: range) -> list[Record]:
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


async def _collect(consumer: AIOKafkaConsumer, tp: TopicPartition, wanted: range) -> list[Record]:
    records: list[Record] = []
    position = wanted.start
    while position < wanted.stop:
        fetched = (await consumer.getmany(tp, timeout_ms=int(IDLE_TIMEOUT_S * 1000))).get(tp, [])
        if not fetched:
            log.error("read-back of %s stopped at %d of %s", tp, position, wanted)
            break
        for record in fetched:
            if record.offset >= wanted.stop:
                return records
            records.append(Record(tp.topic, tp.partition, record.offset, record.key, record.value))
            position = record.offset + 1
    return records
