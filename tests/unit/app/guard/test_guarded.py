"""app.guard.guarded: what the guard does around a batch handler, with fake Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import faust
import psycopg2
import pytest
from faust.streams import current_event
from faust.types import EventT, TopicT

from app.guard import guarded
from app.guard.checkpoints import Checkpoint
from app.guard.feeds import GapFound
from app.guard.guarded import GuardedAgent, acting_on

if TYPE_CHECKING:
    from tests.unit.app.guard.conftest import FakeKafka, MemoryStore


class Handler:
    """A batch handler recording what it saw; fails on ``poison`` offsets, or transiently."""

    def __init__(self, poison: frozenset[int] = frozenset(), outages: int = 0) -> None:
        self.poison = poison
        self.outages = outages
        self.handled: list[int] = []

    async def __call__(self, batch: Sequence[EventT]) -> None:
        if self.outages:
            self.outages -= 1
            raise psycopg2.OperationalError("server closed the connection")
        offsets = [event.message.offset for event in batch]
        if self.poison & set(offsets):
            raise ValueError("cannot handle this event, ever")
        self.handled.extend(offsets)


def agent_of(
    handle: Any, checkpoint: Checkpoint, deadline_s: float = 30.0, dead_letters: bool = True
) -> GuardedAgent:
    """A guarded agent whose dead-letter topic belongs to a Faust app that never starts."""
    app = faust.App("guarded-tests", broker="kafka://127.0.0.1:1", store="memory://")
    topic = app.topic("dead_letters") if dead_letters else None
    return GuardedAgent(handle, checkpoint, topic, deadline_s=deadline_s)


@pytest.fixture
def letters(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The dead letters the guard sends."""
    sent: list[Any] = []

    async def send_dead_letters(topic: TopicT, batch: Sequence[Any]) -> None:
        sent.extend(batch)

    monkeypatch.setattr(guarded, "send_dead_letters", send_dead_letters)
    return sent


async def test_a_batch_beyond_its_checkpoint_is_refused_whole_as_a_gap(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka, letters: list[Any]
) -> None:
    store.saved = {0: 5}
    await checkpoint.saved([0])
    handler = Handler()

    with pytest.raises(GapFound) as found:
        await agent_of(handler, checkpoint).handle_batch([kafka.record(0, 8), kafka.record(0, 9)])

    assert found.value.missing == {0: [range(5, 8)]}
    assert handler.handled == []
    assert store.saved == {0: 5}


async def test_a_batch_at_its_checkpoint_is_handled_then_checkpointed(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka, letters: list[Any]
) -> None:
    store.saved = {0: 8}
    await checkpoint.saved([0])
    handler = Handler()

    await agent_of(handler, checkpoint).handle_batch([kafka.record(0, 8), kafka.record(0, 9)])

    assert handler.handled == [8, 9]
    assert store.saved == {0: 10}


async def test_an_attempt_past_its_deadline_is_cancelled_and_the_batch_tried_again(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka, letters: list[Any]
) -> None:
    attempts: list[str] = []

    async def hangs_once(batch: Sequence[EventT]) -> None:
        attempts.append("start")
        if len(attempts) == 1:
            await asyncio.Event().wait()  # a wake-up that never comes
        attempts.append("done")

    guard = agent_of(hangs_once, checkpoint, deadline_s=0.05)
    await guard.handle_batch([kafka.record(0, 0)])

    assert attempts == ["start", "start", "done"]
    assert store.saved == {0: 1}
    assert letters == []


async def test_a_batch_past_its_deadline_is_handled_in_halves_each_checkpointed_when_done(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka, letters: list[Any]
) -> None:
    attempts: list[list[int]] = []
    saved_before: list[dict[int, int]] = []

    async def too_slow_for_more_than_two(batch: Sequence[EventT]) -> None:
        attempts.append([event.message.offset for event in batch])
        saved_before.append(dict(store.saved))
        if len(batch) > 2:
            await asyncio.Event().wait()  # more work than the deadline allows

    guard = agent_of(too_slow_for_more_than_two, checkpoint, deadline_s=0.05)
    await guard.handle_batch([kafka.record(0, offset) for offset in range(5)])

    assert attempts == [[0, 1, 2, 3, 4], [0, 1], [2, 3, 4], [2], [3, 4]]
    assert saved_before[-1] == {0: 3}  # the first halves were checkpointed as they ended
    assert store.saved == {0: 5}
    assert letters == []


async def test_a_lone_event_past_its_deadline_is_retried_whole_not_refused(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka, letters: list[Any]
) -> None:
    attempts: list[list[int]] = []

    async def hangs_twice(batch: Sequence[EventT]) -> None:
        attempts.append([event.message.offset for event in batch])
        if len(attempts) <= 3:  # the pair, then the first event alone twice
            await asyncio.Event().wait()

    guard = agent_of(hangs_twice, checkpoint, deadline_s=0.05)
    await guard.handle_batch([kafka.record(0, 7), kafka.record(0, 8)])

    assert attempts == [[7, 8], [7], [7], [7], [8]]  # 7 alone: two misses, then done
    assert store.saved == {0: 9}
    assert letters == []


async def test_a_transient_failure_is_retried_without_moving_on(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka, letters: list[Any]
) -> None:
    store.saved = {0: 3}
    handler = Handler(outages=2)

    await agent_of(handler, checkpoint).handle_batch([kafka.record(0, 3)])

    assert handler.handled == [3]
    assert store.saved == {0: 4}
    assert letters == []


async def test_an_event_that_fails_alone_is_dead_lettered_once_and_passed(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka, letters: list[Any]
) -> None:
    store.saved = {0: 5}
    handler = Handler(poison=frozenset({6}))

    await agent_of(handler, checkpoint).handle_batch(
        [kafka.record(0, 5), kafka.record(0, 6), kafka.record(0, 7)]
    )

    assert handler.handled == [5, 7]  # 6 never handles
    assert len(letters) == 1
    assert store.saved == {0: 8}  # the agent does not read 6 again


async def test_an_agent_without_dead_letters_still_moves_past_a_failing_event(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka, letters: list[Any]
) -> None:
    store.saved = {0: 1}
    handler = Handler(poison=frozenset({1}))
    guard = agent_of(handler, checkpoint, dead_letters=False)

    await guard.handle_batch([kafka.record(0, 1), kafka.record(0, 2)])

    assert handler.handled == [2]
    assert letters == []
    assert store.saved == {0: 3}


def test_acting_on_an_event_makes_it_faust_current_event_for_the_block(
    kafka: FakeKafka,
) -> None:
    record = kafka.record(3, 9)
    with acting_on(record):  # type: ignore[arg-type]  # a record is event-shaped
        assert current_event() is record
    assert current_event() is None
