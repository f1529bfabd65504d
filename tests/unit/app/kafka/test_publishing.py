"""Publishing: messages are grouped per partition exactly as the producer would place them,
and nothing leaves before the worker has declared its topics."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import faust
import pytest
from aiokafka.partitioner import DefaultPartitioner
from faust.types import TopicT

from app.kafka import publishing
from app.kafka.publishing import Message, by_partition, publish_all

#: Any topic: publishing is replaced in the test that sends to it.
TOPIC = faust.App("publishing-tests", broker="kafka://127.0.0.1:1").topic("trending_tops")


def test_messages_land_on_the_partition_the_default_partitioner_picks() -> None:
    partitions = list(range(8))
    messages = [(f"key-{i}".encode(), f"value-{i}".encode()) for i in range(200)]
    grouped = by_partition(messages, partitions)
    expected = DefaultPartitioner()
    for partition, group in grouped.items():
        for key, _ in group:
            assert expected(key, partitions, partitions) == partition
    assert sorted(m for group in grouped.values() for m in group) == sorted(messages)


def test_messages_of_one_partition_keep_their_order() -> None:
    messages = [(b"same-key", str(i).encode()) for i in range(50)]
    [(_, group)] = by_partition(messages, list(range(8))).items()
    assert [value for _, value in group] == [str(i).encode() for i in range(50)]


async def test_nothing_is_produced_before_the_topics_are_declared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Asking for an undeclared topic's partitions makes the broker create it its own way."""
    declared = asyncio.Event()
    sent: list[Sequence[Message]] = []

    async def send(topic: TopicT, messages: Sequence[Message]) -> None:
        sent.append(messages)

    monkeypatch.setattr(publishing, "topics_declared", declared)
    monkeypatch.setattr(publishing, "_send_and_confirm", send)
    publishing_task = asyncio.create_task(publish_all(TOPIC, [(b"k", b"v")]))
    await asyncio.sleep(0.05)
    assert sent == []

    declared.set()
    await asyncio.wait_for(publishing_task, timeout=1)
    assert sent == [[(b"k", b"v")]]
