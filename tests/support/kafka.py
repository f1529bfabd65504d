"""Writing to and reading from the real topics directly, bypassing the API."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tests.support.services import kafka_bootstrap


async def produce(topic: str, records: Sequence[tuple[bytes | None, bytes]]) -> None:
    """Write raw ``(key, value)`` records to ``topic`` and wait for the broker."""
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


async def _stop(consumer: AIOKafkaConsumer) -> None:
    # aiokafka 0.14 without a group id re-raises the cancellation of its own
    # housekeeping task on stop(); the consumer is closed all the same.
    with contextlib.suppress(asyncio.CancelledError):
        await consumer.stop()


def run(coroutine: Any) -> Any:
    """Run a coroutine from a synchronous test."""
    return asyncio.run(coroutine)
