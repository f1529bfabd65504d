"""A three-broker stack (``make up KAFKA_BROKERS=3``) keeps taking writes with one broker down.

Runs only against such a stack (KAFKA_BROKERS=3 in the environment, as the
stack tool reads it): it is slow, and it stops and kills brokers with the stack
tool (root), so it is never run against a single broker or by accident.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from harness.workers import REPO_ROOT

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        os.environ.get("KAFKA_BROKERS") != "3", reason="needs `make up KAFKA_BROKERS=3`"
    ),
]

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
RECORDS = 30


def stack(*args: str) -> str:
    """Run the stack tool (as `make` does) and return its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "stack", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
async def admin() -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await client.start()
    yield client
    await client.close()


@pytest.fixture
async def topic(admin: AIOKafkaAdminClient) -> AsyncIterator[str]:
    """A topic with three partitions, each on all three brokers, deleted afterwards."""
    name = f"cluster-{uuid.uuid4().hex[:12]}"
    await admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=3)])
    yield name
    await admin.delete_topics([name])


async def in_sync_replicas(admin: AIOKafkaAdminClient, topic: str) -> list[int]:
    """How many replicas of each partition are in sync."""
    (described,) = await admin.describe_topics([topic])
    return [len(partition["isr"]) for partition in described["partitions"]]


async def min_insync(admin: AIOKafkaAdminClient, topic: str) -> str:
    """The topic's effective min.insync.replicas."""
    resource = ConfigResource(ConfigResourceType.TOPIC, topic, {"min.insync.replicas": None})
    (answer,) = await admin.describe_configs([resource])
    (entry,) = answer.to_object()["resources"][0]["config_entries"]
    return str(entry["config_value"])


async def produce_all(topic: str) -> None:
    """RECORDS records with acks=all, each acknowledged."""
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all")
    await producer.start()
    try:
        for i in range(RECORDS):
            await producer.send_and_wait(topic, key=str(i).encode(), value=b"v")
    finally:
        await producer.stop()


async def consume_keys(topic: str) -> set[bytes]:
    """Keys of every record of `topic`, read from the beginning."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=BOOTSTRAP, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    keys: set[bytes] = set()
    try:
        async with asyncio.timeout(60):
            while len(keys) < RECORDS:
                batches = await consumer.getmany(timeout_ms=1000)
                keys |= {r.key for records in batches.values() for r in records if r.key}
    finally:
        await consumer.stop()
    return keys


async def wait_for_full_isr(admin: AIOKafkaAdminClient, topic: str) -> list[int]:
    """In-sync replica counts once every partition is back to 3 (or after 60 s)."""
    counts = await in_sync_replicas(admin, topic)
    for _ in range(120):
        if counts == [3, 3, 3]:
            break
        await asyncio.sleep(0.5)
        counts = await in_sync_replicas(admin, topic)
    return counts


async def test_internal_and_new_topics_are_replicated_three_times_with_two_in_sync(
    admin: AIOKafkaAdminClient, topic: str
) -> None:
    assert len((await admin.describe_cluster())["brokers"]) == 3
    assert await in_sync_replicas(admin, topic) == [3, 3, 3]
    assert await min_insync(admin, topic) == "2"
    (offsets,) = await admin.describe_topics(["__consumer_offsets"])
    assert {len(p["replicas"]) for p in offsets["partitions"]} == {3}


async def test_writes_with_acks_all_go_on_while_a_broker_is_stopped(
    admin: AIOKafkaAdminClient, topic: str
) -> None:
    await asyncio.to_thread(stack, "stop", "kafka-2")
    try:
        await produce_all(topic)
        assert await consume_keys(topic) == {str(i).encode() for i in range(RECORDS)}
    finally:
        await asyncio.to_thread(stack, "start", "kafka-2")
    assert await wait_for_full_isr(admin, topic) == [3, 3, 3]


async def test_a_killed_broker_is_survived_then_rejoins(
    admin: AIOKafkaAdminClient, topic: str
) -> None:
    pid = int(await asyncio.to_thread(stack, "pid", "kafka-3"))
    os.kill(pid, signal.SIGKILL)
    try:
        await produce_all(topic)
        assert len(await consume_keys(topic)) == RECORDS
    finally:
        await asyncio.to_thread(stack, "start", "kafka-3")
    assert await wait_for_full_isr(admin, topic) == [3, 3, 3]
