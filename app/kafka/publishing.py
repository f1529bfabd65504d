"""Producing to Kafka without losing a message: wait for every acknowledgement.

An agent must not move past its input until what it produced is durable, or a
crash right after the offset commit would lose the output. Kafka outages are
waited out with backoff; output is idempotent downstream (keyed by correlation
id), so a retry that duplicates a message is harmless.

Messages go out as one record batch per partition (aiokafka's ``create_batch``
and ``send_batch``), partitioned exactly as Faust's producer would (aiokafka's
default partitioner, murmur2 of the key): the per-message path through Faust
and aiokafka's accumulator cost more CPU than the processing itself.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner
from faust.types import AppT, TopicT

from app.kafka.topics import topics_declared
from app.retry import retrying

#: One message to produce: (key, value).
Message = tuple[bytes | None, bytes]

_partitioner = DefaultPartitioner()


async def publish_all(topic: TopicT, messages: Sequence[Message]) -> None:
    """Produce ``messages`` to ``topic`` and return once Kafka acknowledged all.

    Waits first until the worker has declared its topics (:data:`app.kafka.topics.topics_declared`).
    """
    if not messages:
        return
    # Asking for the partitions of a topic not created yet makes the broker
    # create it with its own defaults (make test saw trending_tops made with 8
    # partitions instead of 1, and the board, reading one, saw no trending).
    await topics_declared.wait()
    await retrying(
        lambda: _send_and_confirm(topic, messages),
        on=(KafkaError, TimeoutError),
        what=f"producing to {topic.get_topic_name()}",
    )


def partition_of(key: bytes, partitions: int) -> int:
    """The partition of a topic of ``partitions`` the default partitioner gives ``key``."""
    every = list(range(partitions))
    return int(_partitioner(key, every, every))


def by_partition(messages: Sequence[Message], partitions: list[int]) -> dict[int, list[Message]]:
    """``messages`` grouped by the partition the default partitioner picks, in order."""
    grouped: dict[int, list[Message]] = defaultdict(list)
    for message in messages:
        grouped[_partitioner(message[0], partitions, partitions)].append(message)
    return grouped


def kafka_producer(app: AppT) -> AIOKafkaProducer:
    """The aiokafka producer every message of ``app`` leaves through (Faust's own).

    Faust keeps it private; this is the one place that reaches in, so that
    batches, health probes and metadata lookups share its connections.
    """
    return app.producer._ensure_producer()  # type: ignore[attr-defined]


async def _send_and_confirm(topic: TopicT, messages: Sequence[Message]) -> None:
    producer = kafka_producer(topic.app)
    name = topic.get_topic_name()
    partitions = sorted(await producer.partitions_for(name))
    deliveries = []
    for partition, group in by_partition(messages, partitions).items():
        for batch in _batches(producer, group):
            deliveries.append(await producer.send_batch(batch, name, partition=partition))
    await asyncio.gather(*deliveries)


def _batches(producer: AIOKafkaProducer, messages: list[Message]) -> list[object]:
    """``messages`` packed into as few record batches as the batch size allows.

    A batch refuses a message only when it is full and not empty, so a message
    larger than the batch size still goes out, alone in its batch.
    """
    batches = [producer.create_batch()]
    for key, value in messages:
        if batches[-1].append(key=key, value=value, timestamp=None) is None:  # full
            batches.append(producer.create_batch())
            batches[-1].append(key=key, value=value, timestamp=None)
    return batches
