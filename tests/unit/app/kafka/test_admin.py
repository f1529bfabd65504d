"""app.kafka.admin: lag per partition, masked messages, newest first, bounded readings."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
from aiokafka import ConsumerRecord, TopicPartition

from app.kafka.admin import KafkaAdmin, KafkaUnavailable
from app.kafka.cluster_view import (
    MAX_SHOWN_BYTES,
    GroupSummary,
    group_lag,
    masked_message,
    masked_value,
    newest,
)

GROUP = GroupSummary("streaming-platform", "Stable", "consumer", 1)


def record(
    offset: int, value: bytes | None, timestamp: int = 1_700_000_000_000, partition: int = 0
) -> ConsumerRecord:
    return ConsumerRecord(
        topic="user_events",
        partition=partition,
        offset=offset,
        timestamp=timestamp,
        timestamp_type=0,
        key=b"42",
        value=value,
        checksum=None,
        serialized_key_size=2,
        serialized_value_size=len(value or b""),
        headers=(),
    )


def test_lag_is_end_minus_committed_per_partition_and_in_total() -> None:
    a, b = TopicPartition("user_events", 0), TopicPartition("user_events", 1)
    lag = group_lag(GROUP, {b: 7, a: 10}, {a: 15, b: 7})
    assert [(p.partition, p.committed, p.end, p.lag) for p in lag.partitions] == [
        (0, 10, 15, 5),
        (1, 7, 7, 0),
    ]
    assert lag.lag == 5
    assert (lag.group_id, lag.state, lag.members) == ("streaming-platform", "Stable", 1)


def test_a_partition_never_committed_has_no_lag_and_counts_nothing() -> None:
    tp = TopicPartition("user_events", 0)
    lag = group_lag(GROUP, {tp: -1}, {tp: 9})
    assert (lag.partitions[0].committed, lag.partitions[0].lag, lag.lag) == (None, None, 0)


def test_a_committed_offset_past_the_end_is_no_negative_lag() -> None:
    tp = TopicPartition("user_events", 0)
    assert group_lag(GROUP, {tp: 12}, {tp: 10}).lag == 0


def test_json_values_are_masked_json() -> None:
    raw = orjson.dumps({"nome": "Ana Maria Braga", "cpf": "123.456.789-25", "plano": "Premium"})
    assert masked_value(raw) == (
        "json",
        {"nome": "A. M. B.", "cpf": "***.***.***-25", "plano": "Premium"},
    )


def test_text_values_are_masked_text() -> None:
    kind, shown = masked_value(b"not json: ana@dominio.com 123.456.789-25")
    assert kind == "text"
    assert shown == "not json: a***@dominio.com ***.***.***-25"


def test_empty_and_huge_values() -> None:
    assert masked_value(None) == ("empty", None)
    assert masked_value(b"") == ("empty", None)
    kind, shown = masked_value(b'{"x": "' + b"y" * MAX_SHOWN_BYTES + b'"}')
    assert kind == "text" and len(shown) == MAX_SHOWN_BYTES


def test_a_message_is_shown_with_its_place_time_key_and_size() -> None:
    shown = masked_message(record(41, b'{"email": "ana@dominio.com"}'))
    assert (shown.partition, shown.offset, shown.key, shown.size) == (0, 41, "42", 28)
    assert shown.timestamp == "2023-11-14T22:13:20.000000Z"
    assert shown.value == {"email": "a***@dominio.com"}


def test_newest_first_over_partitions() -> None:
    records = [
        record(5, b"a", timestamp=3000, partition=0),
        record(9, b"b", timestamp=1000, partition=1),
        record(6, b"c", timestamp=3000, partition=0),
        record(2, b"d", timestamp=2000, partition=2),
    ]
    assert [(r.partition, r.offset) for r in newest(records, 3)] == [(0, 6), (0, 5), (2, 2)]


async def test_kafka_down_is_unavailable_within_the_timeout() -> None:
    admin = KafkaAdmin("127.0.0.1:9", timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(KafkaUnavailable):
        await admin.topics()
    assert time.monotonic() - started < 2.0


async def test_a_hung_reading_is_cut_at_the_timeout() -> None:
    admin = KafkaAdmin("127.0.0.1:9", timeout_s=0.2)

    async def hang() -> None:
        await asyncio.sleep(10)

    started = time.monotonic()
    with pytest.raises(KafkaUnavailable, match="in time"):
        await admin._bounded(hang)
    assert time.monotonic() - started < 1.0
