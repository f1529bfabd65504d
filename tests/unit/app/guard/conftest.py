"""In-memory stand-ins for where an agent's checkpoint lives (PostgreSQL) and what Kafka holds."""

from __future__ import annotations

import faust
import pytest
from faust.types import TopicT

from app.guard.checkpoints import Checkpoint
from app.kafka.readers import Record
from app.storage.agent_checkpoints import CheckpointKey

TOPIC = "user_events"


class MemoryStore:
    """Checkpoints in a dict; unavailable (like a stopped PostgreSQL) for ``outages`` calls."""

    def __init__(self) -> None:
        self.saved: dict[int, int] = {}
        self.outages = 0

    async def wait_ready(self) -> None:
        return None

    async def checkpoints(self, key: CheckpointKey, partitions: list[int]) -> dict[int, int]:
        self._maybe_fail()
        return {p: offset for p, offset in self.saved.items() if p in partitions}

    async def save_checkpoints(self, key: CheckpointKey, next_offsets: dict[int, int]) -> None:
        self._maybe_fail()
        for partition, offset in next_offsets.items():
            self.saved[partition] = max(offset, self.saved.get(partition, offset))

    async def seed_checkpoints(self, key: CheckpointKey, next_offsets: dict[int, int]) -> None:
        self._maybe_fail()
        for partition, offset in next_offsets.items():
            self.saved.setdefault(partition, offset)

    def _maybe_fail(self) -> None:
        if self.outages:
            self.outages -= 1
            raise OSError("connection refused")


class FakeKafka:
    """A topic whose every offset holds a record."""

    def __init__(self) -> None:
        #: Each partition's log-end offset (its log starts at ``starts``, default 0).
        self.ends: dict[int, int] = {}
        self.starts: dict[int, int] = {}

    def record(self, partition: int, offset: int) -> Record:
        """The record at ``partition``/``offset``."""
        value = f"{partition}:{offset}".encode()
        return Record(TOPIC, partition, offset, None, value, 1_700_000_000.0)

    async def log_bounds(self, topic: str, partitions: list[int]) -> dict[int, range]:
        return {p: range(self.starts.get(p, 0), self.ends.get(p, 0)) for p in partitions}


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def kafka() -> FakeKafka:
    return FakeKafka()


def checkpoint_of(store: MemoryStore, kafka: FakeKafka, stall_after_s: float = 15.0) -> Checkpoint:
    """A checkpoint kept in ``store``, over the log of ``kafka``."""
    key = CheckpointKey("group", "agent", TOPIC)
    return Checkpoint(store, kafka, key, stall_after_s)


@pytest.fixture
def checkpoint(store: MemoryStore, kafka: FakeKafka) -> Checkpoint:
    return checkpoint_of(store, kafka)


@pytest.fixture(scope="session")
def faust_app() -> faust.App:
    """A Faust app that never starts: agents and topics are declared on it only."""
    return faust.App("guard-tests", broker="kafka://127.0.0.1:1", store="memory://")


@pytest.fixture(scope="session")
def dead_letter_topic(faust_app: faust.App) -> TopicT:
    return faust_app.topic("dead_letters")
