"""app.kafka.intake_producer against the real broker: the intake's events land where Faust's
partitioner would put them, a send returns once Kafka holds the record, and stopping delivers
what is queued. Each test produces to a topic of its own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from confluent_kafka import KafkaError

from app.kafka.intake_producer import DeliveryFailed, IntakeProducer
from app.kafka.publishing import partition_of
from app.kafka.topics import user_key
from app.settings import get_settings
from harness.broker import create_topics, end_offsets
from harness.services import kafka_bootstrap
from harness.workers import RUN_PREFIX

pytestmark = pytest.mark.integration

PARTITIONS = 8


@pytest.fixture
async def topic() -> str:
    name = f"{RUN_PREFIX}intake-{uuid.uuid4().hex[:8]}"
    await create_topics({name: PARTITIONS})
    return name


@pytest.fixture
async def producer() -> AsyncIterator[IntakeProducer]:
    started = IntakeProducer(get_settings())
    await started.start()
    yield started
    await started.stop()


async def keys_by_partition(topic: str) -> dict[int, list[bytes]]:
    """Each partition's record keys, read from the start to the end it has now."""
    ends = await end_offsets(topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap(), enable_auto_commit=False)
    await consumer.start()
    found: dict[int, list[bytes]] = {tp.partition: [] for tp in ends}
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                found[tp.partition] += [r.key for r in records if r.key is not None]
    finally:
        await consumer.stop()
    return found


async def test_each_users_events_land_on_the_partition_faust_and_aiokafka_give_that_user(
    topic: str, producer: IntakeProducer
) -> None:
    users = range(1, 301)
    await asyncio.gather(*(producer.send(topic, b"{}", user_key(user)) for user in users))

    found = await keys_by_partition(topic)

    assert sorted(key for keys in found.values() for key in keys) == sorted(map(user_key, users))
    misplaced = {
        key: partition
        for partition, keys in found.items()
        for key in keys
        if partition_of(key, PARTITIONS) != partition
    }
    assert misplaced == {}
    assert len([keys for keys in found.values() if keys]) == PARTITIONS  # spread, not one


async def test_a_send_returns_once_kafka_holds_the_record(
    topic: str, producer: IntakeProducer
) -> None:
    await producer.send(topic, b'{"n": 1}', user_key(7))

    ends = await end_offsets(topic)  # read at once: no waiting for the record to show up

    assert ends[TopicPartition(topic, partition_of(user_key(7), PARTITIONS))] == 1
    assert sum(ends.values()) == 1


async def test_stopping_delivers_the_records_still_queued(topic: str) -> None:
    producer = IntakeProducer(get_settings())
    await producer.start()
    sends = [asyncio.create_task(producer.send(topic, b"{}", user_key(n))) for n in range(50)]
    await asyncio.sleep(0)  # each send has queued its record

    await producer.stop()

    # Every report was handed over while stopping: each send ends, acknowledged, at once.
    async with asyncio.timeout(1):
        await asyncio.gather(*sends)
    assert sum((await end_offsets(topic)).values()) == 50


async def test_a_record_no_broker_acknowledges_is_never_reported_delivered() -> None:
    nobody = get_settings().model_copy(update={"kafka_bootstrap_servers": "127.0.0.1:9"})
    producer = IntakeProducer(nobody, flush_s=0.5)
    await producer.start()
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(2):
                await producer.send("nowhere", b"{}", user_key(1))
    finally:
        await producer.stop()


async def test_a_record_sent_once_stopping_has_begun_is_refused_at_once(topic: str) -> None:
    producer = IntakeProducer(get_settings())
    await producer.start()
    stopping = asyncio.create_task(producer.stop())
    await asyncio.sleep(0)  # the stop has begun: flushing

    with pytest.raises(DeliveryFailed, match="not running"):
        await producer.send(topic, b"{}", user_key(1))

    await stopping
    assert sum((await end_offsets(topic)).values()) == 0


async def test_a_producer_failed_for_good_is_replaced_and_the_next_sends_are_acknowledged(
    topic: str, producer: IntakeProducer
) -> None:
    await producer.send(topic, b"{}", user_key(1))
    failed = producer._producer  # the swap is what is under test

    producer.report_error(KafkaError(KafkaError._FATAL, "lost its sequence", fatal=True))
    async with asyncio.timeout(5):
        while producer._producer is failed:  # the polling thread replaces it
            await asyncio.sleep(0.05)
    await producer.send(topic, b"{}", user_key(2))  # through the new producer

    assert sum((await end_offsets(topic)).values()) == 2
