"""app.checkpoints: the offsets a stream skipped, found from the checkpoint and read back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import pytest

from app.checkpoints import Checkpoint, first_offsets, gaps, next_offsets
from tests.unit.app.conftest import checkpoint_of

if TYPE_CHECKING:
    from tests.unit.app.conftest import FakeKafka, MemoryStore

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


async def test_skipped_events_come_back_before_their_batch_in_offset_order(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 10, 1: 4}
    batch = [kafka.record(1, 4), kafka.record(0, 12), kafka.record(0, 13)]

    complete = await checkpoint.with_skipped(batch)

    assert positions(complete) == [(0, 10), (0, 11), (0, 12), (0, 13), (1, 4)]
    assert kafka.reads == [(0, range(10, 12))]


async def test_a_batch_at_its_checkpoint_is_kept_as_it_is(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 12}
    batch = [kafka.record(0, 12), kafka.record(5, 0)]  # partition 5 has no checkpoint yet

    assert await checkpoint.with_skipped(batch) is batch
    assert kafka.reads == []


async def test_saving_moves_each_partition_past_its_last_event_and_never_back(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {1: 50}
    await checkpoint.save([kafka.record(0, 7), kafka.record(0, 9), kafka.record(1, 3)])
    assert store.saved == {0: 10, 1: 50}


async def test_a_gap_read_back_only_in_part_keeps_its_checkpoint_for_the_next_batch(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 10, 1: 2}
    kafka.stall_at = 11
    batch = await checkpoint.with_skipped([kafka.record(0, 13), kafka.record(1, 5)])
    await checkpoint.save(batch)
    assert store.saved == {0: 10, 1: 6}

    kafka.stall_at = None
    again = await checkpoint.with_skipped([kafka.record(0, 14)])
    assert positions(again) == [(0, offset) for offset in range(10, 15)]


async def test_a_gap_kafka_cannot_read_back_keeps_its_checkpoint(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 10}
    kafka.down = True
    batch = await checkpoint.with_skipped([kafka.record(0, 13)])
    await checkpoint.save(batch)
    assert positions(batch) == [(0, 13)]
    assert store.saved == {0: 10}


async def test_while_postgresql_is_down_the_checkpoint_waits_instead_of_running_ahead(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 10}
    store.outages = 2
    batch = await checkpoint.with_skipped([kafka.record(0, 11)])
    assert positions(batch) == [(0, 10), (0, 11)]
    store.outages = 2
    await checkpoint.save(batch)
    assert store.saved == {0: 12}


async def test_a_hole_inside_a_batch_is_read_back_into_its_place(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 10}
    batch = [kafka.record(0, 10), kafka.record(0, 13)]

    complete = await checkpoint.with_skipped(batch)

    assert positions(complete) == [(0, offset) for offset in range(10, 14)]
    assert kafka.reads == [(0, range(11, 13))]


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
    kafka.ends = {2: 9}  # no checkpoint: the stream never delivered any of it

    checkpoint = _impatient(store, kafka, 0.01)
    await asyncio.sleep(0.02)
    assert await checkpoint.stalled({2}) == {2: range(9)}


async def test_an_agent_with_its_own_consumer_has_no_partition_judged_while_it_is_busy(
    store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 10}
    kafka.ends = {0: 13, 1: 5}
    checkpoint = _impatient(store, kafka, 0.05)
    await checkpoint.stalled({0})
    await asyncio.sleep(0.03)
    await checkpoint.save([kafka.record(1, 4)])  # partition 1 keeps the agent busy
    await asyncio.sleep(0.03)

    assert await checkpoint.stalled({0}) == {}


def _stream_checkpoint(
    store: MemoryStore, kafka: FakeKafka, held_back_after_s: float
) -> Checkpoint:
    """A Faust stream's checkpoint, whose agent is never idle long enough to be judged whole."""
    return checkpoint_of(store, kafka, stall_after_s=60, held_back_after_s=held_back_after_s)


async def test_a_stream_partition_held_back_while_the_others_flow_is_stalled(
    store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 10, 1: 4}
    kafka.ends = {0: 13, 1: 9}
    checkpoint = _stream_checkpoint(store, kafka, 0.05)
    assert await checkpoint.stalled({0, 1}) == {}  # first seen behind now
    await asyncio.sleep(0.03)
    await checkpoint.save([kafka.record(1, 6)])  # partition 1 keeps the agent busy
    assert await checkpoint.stalled({0, 1}) == {}
    await asyncio.sleep(0.03)

    assert await checkpoint.stalled({0, 1}) == {0: range(10, 13)}


async def test_a_stream_that_delivers_nothing_is_not_judged_per_partition(
    store: MemoryStore, kafka: FakeKafka
) -> None:
    """It may be waiting behind another agent's backlog: the whole-agent rule decides."""
    store.saved = {0: 10, 1: 4}
    kafka.ends = {0: 13, 1: 9}
    checkpoint = _stream_checkpoint(store, kafka, 0.05)
    await checkpoint.stalled({0, 1})
    await asyncio.sleep(0.06)

    assert await checkpoint.stalled({0, 1}) == {}


async def test_a_stream_partition_whose_checkpoint_moves_is_not_stalled(
    store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 10}
    kafka.ends = {0: 13}
    checkpoint = _stream_checkpoint(store, kafka, 0.05)
    await checkpoint.stalled({0})
    await asyncio.sleep(0.06)
    await checkpoint.save([kafka.record(0, 10)])  # the stream got to it, slowly

    assert await checkpoint.stalled({0}) == {}


async def reassigned(checkpoint: Checkpoint) -> None:
    checkpoint.forget({0})


async def owned_by_nobody_for_a_while(checkpoint: Checkpoint) -> None:
    await checkpoint.stalled(set())  # an audit while the group rebalances


@pytest.mark.parametrize("lose", [reassigned, owned_by_nobody_for_a_while])
async def test_a_stream_partition_that_changed_hands_waits_afresh(
    store: MemoryStore, kafka: FakeKafka, lose: Callable[[Checkpoint], Awaitable[None]]
) -> None:
    """The partition's new stream has not had its chance yet."""
    store.saved = {0: 10}
    kafka.ends = {0: 13}
    checkpoint = _stream_checkpoint(store, kafka, 0.05)
    await checkpoint.stalled({0})
    await checkpoint.save([kafka.record(1, 4)])  # other partitions flow
    await asyncio.sleep(0.06)
    await lose(checkpoint)

    assert await checkpoint.stalled({0}) == {}


async def test_a_partition_a_batch_just_moved_is_not_stalled(
    store: MemoryStore, kafka: FakeKafka
) -> None:
    checkpoint = _impatient(store, kafka, 60)
    await checkpoint.save([kafka.record(0, 9)])
    kafka.ends = {0: 13}

    assert await checkpoint.stalled({0}) == {}


async def test_stalled_events_are_read_back_and_handed_to_the_agent_in_batches(
    store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 10}
    kafka.ends = {0: 13}
    batches: list[list[tuple[int, int]]] = []

    async def handle(batch: Sequence[Any]) -> None:
        batches.append(positions(batch))

    checkpoint = _impatient(store, kafka, 0.01)
    assert await checkpoint.recover_stalled({0}, handle, batch_size=2) == 0
    await asyncio.sleep(0.02)
    handled = await checkpoint.recover_stalled({0}, handle, batch_size=2)

    assert handled == 3
    assert batches == [[(0, 10), (0, 11)], [(0, 12)]]


async def test_a_partition_without_a_checkpoint_gets_one_at_the_start_of_its_log(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {1: 40}
    await checkpoint.seed([kafka.record(0, 7), kafka.record(0, 8), kafka.record(1, 50)])
    assert store.saved == {0: 0, 1: 40}


async def test_first_events_skipped_before_a_partitions_first_batch_are_read_back(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    kafka.ends = {1: 3}
    first_batch = [kafka.record(1, 1), kafka.record(1, 2)]  # offset 0 was skipped
    await checkpoint.seed(first_batch)
    events = await checkpoint.with_skipped(first_batch)
    assert [e.message.offset for e in events] == [0, 1, 2]


async def test_batches_are_handled_one_at_a_time_in_order_each_seeded_first(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    log: list[str] = []

    async def batches() -> AsyncIterator[list[Any]]:
        for number in range(3):
            log.append(f"gathered {number}")
            yield [kafka.record(number, 0)]

    async def handle(batch: Sequence[Any]) -> None:
        partition = batch[0].message.partition
        assert partition in store.saved, "handled before its partition had a checkpoint"
        log.append(f"start {partition}")
        await asyncio.sleep(0.01)
        log.append(f"end {partition}")

    await checkpoint.run(batches(), handle)

    handling = [entry for entry in log if not entry.startswith("gathered")]
    assert handling == ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]
    # The next batch is gathered while the previous one is being handled.
    assert log.index("gathered 1") < log.index("end 0")


async def test_checkpoints_known_from_the_last_save_spare_a_query_per_batch(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    queries = []
    read = store.checkpoints

    async def counted(key: Any, partitions: list[int]) -> dict[int, int]:
        queries.append(partitions)
        return await read(key, partitions)

    store.checkpoints = counted  # type: ignore[method-assign]
    store.saved = {0: 10}
    await checkpoint.save(await checkpoint.with_skipped([kafka.record(0, 10)]))
    assert len(queries) == 1

    complete = await checkpoint.with_skipped([kafka.record(0, 13)])

    assert len(queries) == 1  # known: no query
    assert positions(complete) == [(0, 11), (0, 12), (0, 13)]  # and the gap still found


async def test_a_checkpoint_another_worker_moved_reads_back_until_forgotten(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    await checkpoint.save([kafka.record(0, 10)])  # known: 11
    store.saved[0] = 20  # meanwhile another owner handled 11..19

    replayed = await checkpoint.with_skipped([kafka.record(0, 20)])
    assert positions(replayed)[0] == (0, 11)  # read back again: a replay, never a loss

    checkpoint.forget({0})
    assert positions(await checkpoint.with_skipped([kafka.record(0, 20)])) == [(0, 20)]


async def test_a_batch_held_for_long_has_the_await_it_is_stuck_on_logged_and_still_ends(
    checkpoint: Checkpoint,
    kafka: FakeKafka,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("app.checkpoints.SLOW_BATCH_S", 0.05)
    released = asyncio.Event()

    async def waiting_for_a_reply_that_comes_late() -> None:
        await released.wait()

    async def handle(batch: Sequence[Any]) -> None:
        await waiting_for_a_reply_that_comes_late()

    async def batches() -> AsyncIterator[list[Any]]:
        yield [kafka.record(0, 0)]

    asyncio.get_running_loop().call_later(0.2, released.set)
    await checkpoint.run(batches(), handle)  # returns: the batch was waited for, not dropped

    slow = [r.getMessage() for r in caplog.records if "still in hand" in r.getMessage()]
    assert slow, "no log line for a batch held 0.2 s with SLOW_BATCH_S at 0.05 s"
    assert "waiting_for_a_reply_that_comes_late" in slow[0]
