"""app.guard.checkpoints: how far an agent got per partition, and the gaps and stalls it guards against."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pytest

from app.guard.checkpoints import Checkpoint, first_offsets, gaps, next_offsets
from tests.unit.app.guard.conftest import checkpoint_of

if TYPE_CHECKING:
    from tests.unit.app.guard.conftest import FakeKafka, MemoryStore

BATCH = [(0, 14), (1, 3), (0, 15), (1, 4)]


def positions(batch: Sequence[Any]) -> list[tuple[int, int]]:
    return [(event.message.partition, event.message.offset) for event in batch]


def test_first_and_next_offsets_are_taken_per_partition() -> None:
    assert first_offsets(BATCH) == {0: 14, 1: 3}
    assert next_offsets(BATCH) == {0: 16, 1: 5}


def test_a_batch_starting_beyond_its_checkpoint_has_a_gap() -> None:
    assert gaps(BATCH, {0: 13, 1: 3}) == {0: [range(13, 14)]}


def test_redelivered_or_unknown_partitions_have_no_gap() -> None:
    assert gaps([(0, 10), (0, 11), (1, 3)], {0: 13}) == {}


def test_holes_between_a_batch_own_offsets_are_gaps_too() -> None:
    batch = [(0, 10), (0, 13), (0, 14), (0, 17), (1, 5), (1, 7)]
    assert gaps(batch, {0: 10}) == {0: [range(11, 13), range(15, 17)], 1: [range(6, 7)]}


def test_a_redelivery_that_reaches_past_the_checkpoint_has_a_gap_only_after_it() -> None:
    assert gaps([(0, 8), (0, 9), (0, 12)], {0: 10}) == {0: [range(10, 12)]}


async def test_a_batch_starting_beyond_the_saved_checkpoint_has_a_gap(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 10, 1: 4}
    await checkpoint.saved([0, 1])
    batch = [kafka.record(1, 4), kafka.record(0, 12), kafka.record(0, 13)]
    assert checkpoint.gaps_in(batch) == {0: [range(10, 12)]}


async def test_a_batch_at_its_checkpoint_has_no_gap(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 10}
    await checkpoint.saved([0])
    assert checkpoint.gaps_in([kafka.record(0, 10), kafka.record(0, 11)]) == {}


async def test_saving_moves_each_partition_past_its_last_event_and_never_back(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    await checkpoint.save([kafka.record(0, 3), kafka.record(1, 9), kafka.record(0, 4)])
    assert store.saved == {0: 5, 1: 10}
    await checkpoint.save([kafka.record(0, 2)])  # a redelivery
    assert store.saved == {0: 5, 1: 10}
    assert checkpoint.known([0, 1, 2]) == {0: 5, 1: 10}


async def test_while_postgresql_is_down_the_checkpoint_waits_instead_of_running_ahead(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 10}
    store.outages = 2
    assert await checkpoint.saved([0]) == {0: 10}
    store.outages = 2
    await checkpoint.save([kafka.record(0, 10), kafka.record(0, 11)])
    assert store.saved == {0: 12}


async def test_a_checkpoint_another_worker_moved_is_read_afresh_on_assignment(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    await checkpoint.save([kafka.record(0, 10)])  # known: 11
    store.saved[0] = 20  # meanwhile another owner handled 11..19
    await checkpoint.saved([0])  # the partition came back to this worker
    assert checkpoint.gaps_in([kafka.record(0, 20)]) == {}


def _impatient(store: MemoryStore, kafka: FakeKafka, stall_after_s: float) -> Checkpoint:
    return checkpoint_of(store, kafka, stall_after_s)


async def test_a_partition_behind_its_end_that_no_batch_moves_is_stalled(
    store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 10, 1: 5}
    kafka.ends = {0: 13, 1: 5, 3: 0}  # 1 is caught up; 3 is empty

    checkpoint = _impatient(store, kafka, 0.01)
    assert await checkpoint.stalled({0, 1, 3}) == {}  # the agent has not been idle long
    await asyncio.sleep(0.02)
    assert await checkpoint.stalled({0, 1, 3}) == {0: range(10, 13)}


async def test_a_partition_no_batch_ever_reached_is_judged_from_the_start_of_its_log(
    store: MemoryStore, kafka: FakeKafka
) -> None:
    kafka.ends = {2: 9}  # no checkpoint: the consumer never delivered any of it

    checkpoint = _impatient(store, kafka, 0.01)
    await asyncio.sleep(0.02)
    assert await checkpoint.stalled({2}) == {2: range(9)}


async def test_no_partition_is_judged_while_batches_of_others_keep_the_agent_busy(
    store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 10}
    kafka.ends = {0: 13, 1: 5}
    checkpoint = _impatient(store, kafka, 0.05)
    await asyncio.sleep(0.03)
    await checkpoint.save([kafka.record(1, 4)])  # partition 1 keeps the agent busy
    await asyncio.sleep(0.03)

    assert await checkpoint.stalled({0}) == {}


async def test_a_partition_a_batch_just_moved_is_not_stalled(
    store: MemoryStore, kafka: FakeKafka
) -> None:
    checkpoint = _impatient(store, kafka, 60)
    await checkpoint.save([kafka.record(0, 9)])
    kafka.ends = {0: 13}

    assert await checkpoint.stalled({0}) == {}


async def test_a_partition_just_assigned_is_not_stalled_before_its_consumer_had_time(
    store: MemoryStore, kafka: FakeKafka
) -> None:
    kafka.ends = {4: 17}  # written while another worker owned it
    checkpoint = _impatient(store, kafka, 0.05)
    await asyncio.sleep(0.06)  # idle since the agent was made
    checkpoint.assigned([4])

    assert await checkpoint.stalled({4}) == {}
    await asyncio.sleep(0.06)
    assert await checkpoint.stalled({4}) == {4: range(17)}


async def test_an_agent_waiting_out_an_outage_is_not_stalled_until_the_store_has_been_back_a_while(
    store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 10}
    kafka.ends = {0: 13}
    checkpoint = _impatient(store, kafka, 0.05)
    await asyncio.sleep(0.06)
    store.outages = 1  # PostgreSQL down: the agent could not move

    with pytest.raises(OSError):
        await checkpoint.stalled({0})
    assert await checkpoint.stalled({0}) == {}  # back just now
    await asyncio.sleep(0.06)
    assert await checkpoint.stalled({0}) == {0: range(10, 13)}


async def test_a_partition_without_a_checkpoint_gets_one_at_the_start_of_its_log(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {1: 40}
    await checkpoint.saved([0, 1])
    await checkpoint.seed([kafka.record(0, 7), kafka.record(0, 8), kafka.record(1, 50)])
    assert store.saved == {0: 0, 1: 40}
    # The consumer started beyond the log's start (its group had committed there): a gap.
    assert checkpoint.gaps_in([kafka.record(0, 7)]) == {0: [range(7)]}
