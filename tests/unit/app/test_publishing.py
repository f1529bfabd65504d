"""Publishing: messages are grouped per partition exactly as the producer would place them."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner

from app.publishing import by_partition


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
