"""The real broker's topics, bypassing the API: create, write, read, delete them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from harness.services import kafka_bootstrap

#: Records produced before waiting for their acknowledgements.
PRODUCE_WINDOW = 10_000


async def produce(topic: str, records: Sequence[tuple[bytes | None, bytes | None]]) -> None:
    """Write raw ``(key, value)`` records to ``topic`` and wait for the broker (``None``: a tombstone)."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(), max_request_size=4 * 1024**2)
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


async def end_offsets(topic: str, timeout: float = 30.0) -> dict[TopicPartition, int]:
    """The next offset of every partition of ``topic`` (waiting for it to exist)."""
    partitions = await _partitions(topic, timeout)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap())
    await consumer.start()
    try:
        return await consumer.end_offsets(partitions)
    finally:
        await _stop(consumer)


async def _partitions(topic: str, timeout: float) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            (described,) = await admin.describe_topics([topic])
            if described["error_code"] == 0 and described["partitions"]:
                return [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
            await asyncio.sleep(0.2)
        raise TimeoutError(f"topic {topic} does not exist")
    finally:
        await admin.close()


async def read_records(
    topic: str, timeout: float = 30.0
) -> list[tuple[bytes | None, bytes | None]]:
    """Every ``(key, value)`` record of ``topic`` up to its end now (tombstones: value None)."""
    ends = await end_offsets(topic, timeout)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap(), enable_auto_commit=False)
    await consumer.start()
    records: list[tuple[bytes | None, bytes | None]] = []
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        deadline = time.monotonic() + timeout
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            assert time.monotonic() < deadline, f"{topic} not read to its end in {timeout:g} s"
            batches = await consumer.getmany(timeout_ms=500)
            records += [(r.key, r.value) for rs in batches.values() for r in rs]
    finally:
        await _stop(consumer)
    return records


async def read_json_since(
    start: dict[TopicPartition, int],
    until: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 30.0,
) -> list[dict[str, Any]]:
    """JSON values appended after ``start`` offsets, read until ``until(values)``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap(), enable_auto_commit=False)
    await consumer.start()
    values: list[dict[str, Any]] = []
    try:
        consumer.assign(list(start))
        for partition, offset in start.items():
            consumer.seek(partition, offset)
        deadline = time.monotonic() + timeout
        while not until(values) and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            values += [orjson.loads(r.value) for rs in batches.values() for r in rs]
    finally:
        await _stop(consumer)
    return values


async def create_topics(
    partitions: dict[str, int], replication_factor: int = 1, config: dict[str, str] | None = None
) -> None:
    """Create each topic with its partition count (before anything is produced to it).

    ``replication_factor`` copies of each, with ``config`` (e.g. ``min.insync.replicas``).
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        new = [
            NewTopic(name, count, replication_factor, topic_configs=config or {})
            for name, count in partitions.items()
        ]
        await admin.create_topics(new)
        await _wait_for_leaders(admin, list(partitions))
    finally:
        await admin.close()


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Return once every partition of ``names`` has a leader (producing then succeeds)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        described = await admin.describe_topics(names)
        partitions = [p for topic in described for p in topic["partitions"]]
        if all(t["error_code"] == 0 for t in described) and all(
            p["leader"] >= 0 for p in partitions
        ):
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"topics {names} have no leaders")


async def broker_count() -> int:
    """How many brokers the cluster has now."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        return len((await admin.describe_cluster())["brokers"])
    finally:
        await admin.close()


async def partition_leaders(topic: str) -> Counter[int]:
    """How many partitions of ``topic`` each broker (by node id) leads."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        return Counter(p["leader"] for p in described["partitions"])
    finally:
        await admin.close()


async def delete_topics(prefixes: Sequence[str]) -> list[str]:
    """Delete every topic whose name starts with one of ``prefixes``; return their names."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(tuple(prefixes))]
        if names:
            await admin.delete_topics(names)
        return names
    finally:
        await admin.close()


async def produce_all(topic: str, records: Sequence[tuple[bytes, bytes]]) -> None:
    """Write ``(key, value)`` records to ``topic``, batched, and wait for every ack."""
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap(), linger_ms=20, max_batch_size=1024 * 1024, acks="all"
    )
    await producer.start()
    try:
        for first in range(0, len(records), PRODUCE_WINDOW):
            window = records[first : first + PRODUCE_WINDOW]
            sent = [await producer.send(topic, value=value, key=key) for key, value in window]
            await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def _stop(consumer: AIOKafkaConsumer) -> None:
    # aiokafka 0.14 without a group id re-raises the cancellation of its own
    # housekeeping task on stop(); the consumer is closed all the same.
    with contextlib.suppress(asyncio.CancelledError):
        await consumer.stop()


def run(coroutine: Any) -> Any:
    """Run a coroutine from a synchronous test."""
    return asyncio.run(coroutine)
