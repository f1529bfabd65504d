"""Smoke tests of the native service stack (`make up`): each service is real and usable.

They talk to the running Kafka, PostgreSQL and Elasticsearch through the same
environment variables as the application, and clean up what they create.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import psycopg2
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from elasticsearch import Elasticsearch

pytestmark = pytest.mark.integration

BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
PG_DSN = {
    "host": os.environ.get("POSTGRES_HOST", "127.0.0.1"),
    "port": int(os.environ.get("POSTGRES_PORT", "5432")),
    "user": os.environ.get("POSTGRES_USER", "user"),
    "password": os.environ.get("POSTGRES_PASSWORD", "password"),
    "dbname": os.environ.get("POSTGRES_DB", "streaming_db"),
    "connect_timeout": 10,
}
ONE_MEGABYTE = 1024 * 1024


def unique(prefix: str) -> str:
    """A name no other test run uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def kafka_topic() -> AsyncIterator[str]:
    """A fresh single-partition topic, deleted afterwards."""
    name = unique("stack-smoke")
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])
        yield name
        await admin.delete_topics([name])
    finally:
        await admin.close()


async def consume_one(topic: str) -> tuple[bytes | None, bytes | None]:
    """Key and value of the first record of `topic`, read from the beginning."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=BOOTSTRAP,
        group_id=unique("stack-smoke-group"),
        auto_offset_reset="earliest",
        fetch_max_bytes=4 * ONE_MEGABYTE,
        max_partition_fetch_bytes=4 * ONE_MEGABYTE,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
        await consumer.commit()
    finally:
        await consumer.stop()
    return record.key, record.value


async def produce_one(topic: str, key: bytes, value: bytes) -> None:
    """Send one record and wait for the broker's acknowledgement."""
    producer = AIOKafkaProducer(
        bootstrap_servers=BOOTSTRAP, acks="all", max_request_size=4 * ONE_MEGABYTE
    )
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


async def test_kafka_delivers_a_produced_message_to_a_consumer_group(kafka_topic: str) -> None:
    await produce_one(kafka_topic, b"k1", b'{"hello": "kafka"}')

    assert await consume_one(kafka_topic) == (b"k1", b'{"hello": "kafka"}')


async def test_kafka_accepts_a_one_megabyte_message(kafka_topic: str) -> None:
    big = b"x" * ONE_MEGABYTE

    await produce_one(kafka_topic, b"big", big)

    key, value = await consume_one(kafka_topic)
    assert key == b"big"
    assert value is not None and len(value) == ONE_MEGABYTE


async def test_kafka_creates_unknown_topics_with_eight_partitions_on_first_use() -> None:
    topic = unique("stack-autocreate")
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP)
    await producer.start()
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await producer.send_and_wait(topic, value=b"v", key=b"k")
        partitions = await producer.partitions_for(topic)
        await admin.delete_topics([topic])
    finally:
        await producer.stop()
        await admin.close()
    assert len(partitions) == 8


def test_postgres_lets_the_application_user_create_write_and_read_a_table() -> None:
    table = unique("stack_smoke").replace("-", "_")
    conn = psycopg2.connect(**PG_DSN)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"CREATE TABLE {table} (id serial PRIMARY KEY, note text NOT NULL)")
            cur.execute(f"INSERT INTO {table} (note) VALUES (%s) RETURNING id", ("olá",))
            (new_id,) = cur.fetchone()
            cur.execute(
                f"SELECT note, current_user, current_database() FROM {table} WHERE id = %s",
                (new_id,),
            )
            row = cur.fetchone()
        assert row == ("olá", PG_DSN["user"], PG_DSN["dbname"])
    finally:
        with conn, conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        conn.close()


def test_postgres_rejects_a_wrong_password() -> None:
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(**{**PG_DSN, "password": "not-the-password"})


@pytest.fixture
def es_index(es: Elasticsearch) -> Iterator[str]:
    """A fresh index name, deleted afterwards."""
    name = unique("stack-smoke")
    yield name
    es.indices.delete(index=name, ignore_unavailable=True)


def test_elasticsearch_cluster_is_healthy_and_8x(es: Elasticsearch) -> None:
    # The integ-test-zip distribution lacks the rest-root module: `GET /` (es.info())
    # and `HEAD /` (es.ping()) answer 405. Ask the node itself for its version.
    nodes = es.nodes.info(node_id="_local", metric="_none")["nodes"]
    assert [node["version"][:2] for node in nodes.values()] == ["8."]
    assert es.cluster.health(wait_for_status="yellow", timeout="30s")["status"] in (
        "yellow",
        "green",
    )


def test_elasticsearch_finds_an_indexed_document(es: Elasticsearch, es_index: str) -> None:
    es.indices.create(
        index=es_index,
        mappings={"properties": {"timestamp": {"type": "date"}, "topic": {"type": "keyword"}}},
    )
    es.index(
        index=es_index,
        id="doc-1",
        document={"timestamp": "2024-01-01T00:00:00Z", "topic": "user_events"},
        refresh="wait_for",
    )

    found = es.search(index=es_index, query={"term": {"topic": "user_events"}})

    hits = found["hits"]["hits"]
    assert [hit["_id"] for hit in hits] == ["doc-1"]
