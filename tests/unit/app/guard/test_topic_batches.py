"""app.guard.topic_batches: batches from an agent's own consumer, started at its checkpoints."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from app.guard.topic_batches import (
    IDLE_FETCH_WAIT_MS,
    ConsumerSettings,
    TopicBatches,
    _Rebalance,
)

TOPIC = "user_events"
SETTINGS = ConsumerSettings("127.0.0.1:1", "group.agent", None, 10.0, 1024)


def record(partition: int, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        TOPIC, partition, offset, 1_700_000_000_000, 0, b"k", b"v", None, 1, 1, ()
    )


class FakeConsumer:
    """What a TopicBatches asks of aiokafka's consumer."""

    def __init__(self, fetches: list[dict[TopicPartition, list[Any]]]) -> None:
        self.fetches = fetches
        self.owned = {TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)}
        self.sought: dict[TopicPartition, int] = {}
        self.committed: dict[TopicPartition, int] = {}
        self.stopped = False
        #: aiokafka's fetcher, as configured at start (SETTINGS, a 50 ms batch wait).
        self._fetcher = SimpleNamespace(_fetch_min_bytes=1024, _fetch_max_wait_ms=50)

    def assignment(self) -> set[TopicPartition]:
        return self.owned

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.owned = set(partitions)

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        return self.fetches.pop(0) if self.fetches else {}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.sought[tp] = offset

    async def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        self.committed.update({tp: meta.offset for tp, meta in offsets.items()})

    def highwater(self, tp: TopicPartition) -> int:
        return 10

    async def stop(self) -> None:
        self.stopped = True


def batches_of(consumer: FakeConsumer, checkpoints: dict[int, int]) -> TopicBatches:
    async def saved(partitions: list[int]) -> dict[int, int]:
        return {p: o for p, o in checkpoints.items() if p in partitions}

    source = TopicBatches(TOPIC, SETTINGS, batch_size=100, batch_wait_s=0.05, checkpoints=saved)
    source._consumer = consumer  # type: ignore[assignment]
    return source


async def test_fetched_records_become_event_shaped_batches_until_closed() -> None:
    tp0, tp1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
    consumer = FakeConsumer([{tp0: [record(0, 5), record(0, 6)], tp1: [record(1, 2)]}, {}, {}])
    source = batches_of(consumer, {})
    got = []
    async for batch in source.batches():
        got.append([(r.message.partition, r.message.offset, r.value) for r in batch])
        source.close()
    assert got == [[(0, 5, b"v"), (0, 6, b"v"), (1, 2, b"v")]]
    assert batch[0].timestamp == 1_700_000_000.0  # seconds, as Faust gives them


async def test_assigned_partitions_start_at_their_checkpoints() -> None:
    consumer = FakeConsumer([])
    source = batches_of(consumer, {0: 42})
    await _Rebalance(source).on_partitions_assigned(consumer.owned)
    assert consumer.sought == {TopicPartition(TOPIC, 0): 42}  # partition 1 has none yet


async def test_offsets_committed_are_the_checkpoints_never_more() -> None:
    consumer = FakeConsumer([])
    source = batches_of(consumer, {0: 7, 1: 3})
    await _Rebalance(source).on_partitions_revoked({TopicPartition(TOPIC, 1)})
    assert consumer.committed == {TopicPartition(TOPIC, 1): 3}
    assert source.lag() == 10 - 3  # partition 0 was never committed: unknown, left out
    await source.stop()
    assert consumer.committed == {TopicPartition(TOPIC, 0): 7, TopicPartition(TOPIC, 1): 3}
    assert consumer.stopped


async def test_partitions_given_by_the_caller_start_at_their_checkpoints() -> None:
    consumer = FakeConsumer([])
    source = batches_of(consumer, {2: 9, 3: 4})
    await source.assign({2, 5})
    assert source.assignment() == {2, 5}
    assert consumer.sought == {TopicPartition(TOPIC, 2): 9}  # 5 has none yet


async def test_only_owned_partitions_are_read_again_from_where_they_are_asked() -> None:
    consumer = FakeConsumer([])
    source = batches_of(consumer, {})
    source.rewind({0: 3, 7: 1})
    assert consumer.sought == {TopicPartition(TOPIC, 0): 3}


async def test_giving_partitions_up_commits_their_checkpoints_first() -> None:
    consumer = FakeConsumer([])
    source = batches_of(consumer, {0: 7, 1: 3})
    await source.unassign()
    assert consumer.committed == {TopicPartition(TOPIC, 0): 7, TopicPartition(TOPIC, 1): 3}
    assert source.assignment() == set()


async def test_batches_end_once_the_caller_says_they_are_no_longer_current() -> None:
    tp0 = TopicPartition(TOPIC, 0)
    consumer = FakeConsumer([{tp0: [record(0, 1)]}, {tp0: [record(0, 2)]}])
    source = batches_of(consumer, {})
    handed: list[list[Any]] = []
    async for batch in source.batches(lambda: not handed):
        handed.append(batch)
    assert [[r.offset for r in batch] for batch in handed] == [[1]]


async def test_an_idle_consumer_waits_for_the_first_byte_and_a_busy_one_gathers_a_batch() -> None:
    tp0 = TopicPartition(TOPIC, 0)
    consumer = FakeConsumer([{tp0: [record(0, 1)]}, {}, {}, {tp0: [record(0, 2)]}])
    source = batches_of(consumer, {})
    fetches = []  # (min bytes, max wait) of the next fetch, after each poll
    for _ in range(4):
        await source._gather(consumer)  # type: ignore[arg-type]
        fetches.append((consumer._fetcher._fetch_min_bytes, consumer._fetcher._fetch_max_wait_ms))
    gathering, waiting = (1024, 50), (1, IDLE_FETCH_WAIT_MS)
    assert fetches == [gathering, waiting, waiting, gathering]
