"""app.guard.feeds: batches handed over in order, gaps and stalls read again, revocations waited for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from faust.types import EventT
from prometheus_client import REGISTRY

from app.guard.checkpoints import Checkpoint
from app.guard.feeds import Feed, TableFeed
from app.guard.guarded import GuardedAgent
from app.kafka.readers import Record
from tests.unit.app.guard.conftest import checkpoint_of

if TYPE_CHECKING:
    from tests.unit.app.guard.conftest import FakeKafka, MemoryStore


class FakeSource:
    """What a feed asks of its consumer: batches, its partitions, and moves back."""

    def __init__(self, batches: list[list[Record]], owned: set[int]) -> None:
        self.topic = "user_events"
        self.pending = batches
        self.owned = owned
        self.rewound: list[dict[int, int]] = []
        self.rebalancing = False
        self.started = True
        self.closing = False

    def assignment(self) -> set[int]:
        return self.owned

    def rewind(self, positions: dict[int, int]) -> None:
        self.rewound.append(positions)

    def lag(self) -> int:
        return 0

    async def batches(self, current: Callable[[], bool] = lambda: True) -> AsyncIterator[Any]:
        while self.pending and current():
            yield self.pending.pop(0)


class Recorder:
    """A batch handler that records offsets; it can be held until released."""

    def __init__(self) -> None:
        self.handled: list[int] = []
        self.release = asyncio.Event()
        self.release.set()
        self.started = asyncio.Event()

    async def __call__(self, batch: Sequence[EventT]) -> None:
        self.started.set()
        await self.release.wait()
        self.handled.extend(event.message.offset for event in batch)


def counted(name: str) -> float:
    return REGISTRY.get_sample_value(name, {"stage": "agent"}) or 0.0


def feed_of(
    checkpoint: Checkpoint, batches: list[list[Record]], handler: Recorder, deadline_s: float = 5
) -> tuple[Feed, FakeSource]:
    source = FakeSource(batches, owned={0})
    guard = GuardedAgent(handler, checkpoint, None, deadline_s=deadline_s)
    return Feed(guard, source), source  # type: ignore[arg-type]


async def test_a_batch_beyond_its_checkpoint_is_not_handled_and_its_partition_read_again(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 5}
    await checkpoint.saved([0])
    handler = Recorder()
    feed, source = feed_of(checkpoint, [[kafka.record(0, 8)]], handler)
    before = counted("guarded_gaps_total")

    await feed.consume()

    assert handler.handled == []
    assert source.rewound == [{0: 5}]
    assert counted("guarded_gaps_total") - before == 3


async def test_offsets_missing_again_after_reading_again_are_counted_lost_and_passed(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 5}
    await checkpoint.saved([0])
    handler = Recorder()
    batches = [[kafka.record(0, 8)], [kafka.record(0, 8), kafka.record(0, 9)]]
    feed, source = feed_of(checkpoint, batches, handler)
    before = counted("guarded_records_lost_total")

    await feed.consume()

    assert source.rewound == [{0: 5}]  # read again once; the same gap came back
    assert counted("guarded_records_lost_total") - before == 3
    assert handler.handled == [8, 9]
    assert store.saved == {0: 10}


async def test_a_stalled_partition_is_read_from_its_checkpoint_again(
    store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 5}
    kafka.ends = {0: 9}
    checkpoint = checkpoint_of(store, kafka, stall_after_s=0.01)
    feed, source = feed_of(checkpoint, [], Recorder())
    await asyncio.sleep(0.02)

    await feed.audit()

    assert source.rewound == [{0: 5}]
    assert feed.state == "stalled"


async def test_no_stall_is_judged_while_a_batch_is_in_hand(
    store: MemoryStore, kafka: FakeKafka
) -> None:
    store.saved = {0: 0}
    kafka.ends = {0: 9}
    checkpoint = checkpoint_of(store, kafka, stall_after_s=0.01)
    await checkpoint.saved([0])
    handler = Recorder()
    handler.release.clear()
    feed, source = feed_of(checkpoint, [[kafka.record(0, 0)]], handler)
    consuming = asyncio.create_task(feed.consume())
    await handler.started.wait()
    await asyncio.sleep(0.02)

    await feed.audit()
    assert source.rewound == [] and feed.batch_age_s() > 0

    handler.release.set()
    await consuming
    assert handler.handled == [0] and feed.batch_age_s() == 0


class Producer:
    """Faust's producer, whose flushes are recorded instead of sent."""

    def __init__(self) -> None:
        self.flushed: list[str] = []

    async def flush(self) -> None:
        self.flushed.append("flush")


class Ownership:
    """The table ownership a table feed follows, moved by hand."""

    def __init__(self) -> None:
        self.generation = 1
        self.settled = True
        self.pauses: list[Callable[[], Any]] = []
        #: The app whose producer a revocation flushes: recorded instead of sent.
        self.app = SimpleNamespace(producer=Producer())

    def on_revoke(self, pause: Callable[[], Any]) -> None:
        self.pauses.append(pause)


def table_feed_of(
    checkpoint: Checkpoint, handler: Recorder, deadline_s: float
) -> tuple[TableFeed, Ownership]:
    ownership = Ownership()
    guard = GuardedAgent(handler, checkpoint, None, deadline_s=deadline_s)
    feed = TableFeed(guard, FakeSource([], {0}), ownership, table=None)  # type: ignore[arg-type]
    return feed, ownership


async def test_a_revocation_waits_for_the_batch_in_hand_then_flushes_its_changelog(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    handler = Recorder()
    handler.release.clear()
    feed, ownership = table_feed_of(checkpoint, handler, deadline_s=5)
    handling = asyncio.create_task(feed._handle([kafka.record(0, 0)]))
    await handler.started.wait()

    pausing = asyncio.create_task(ownership.pauses[0]())
    await asyncio.sleep(0.02)
    assert not pausing.done()  # the group waits for the batch in hand
    handler.release.set()
    await pausing
    await handling

    assert handler.handled == [0] and store.saved == {0: 1}
    assert ownership.app.producer.flushed == ["flush"]


async def test_a_batch_outliving_its_deadline_at_revocation_is_dropped_unsaved(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    handler = Recorder()
    handler.release.clear()
    feed, ownership = table_feed_of(checkpoint, handler, deadline_s=0.05)
    handling = asyncio.create_task(feed._handle([kafka.record(0, 0)]))
    await handler.started.wait()

    await ownership.pauses[0]()
    await handling

    assert handler.handled == [] and store.saved == {}  # the next owner handles it


async def test_a_batch_gathered_as_a_rebalance_starts_is_left_to_the_next_owner(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka
) -> None:
    handler = Recorder()
    feed, ownership = table_feed_of(checkpoint, handler, deadline_s=5)
    batches = FakeSource([[kafka.record(0, 0)], [kafka.record(0, 1)]], {0})

    def current() -> bool:
        ownership.generation += 1  # the rebalance starts while the batch is gathered
        return False

    await feed.handle_all(batches.batches(), current)

    assert handler.handled == [] and store.saved == {0: 0}  # seeded, never moved
