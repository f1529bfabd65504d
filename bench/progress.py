"""How far a bench run got: outcomes as they land, and the agents' groups' lag."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from app.guard import feed_group
from harness.services import kafka_bootstrap


@dataclass(frozen=True)
class Backlog:
    """What a group must read of its topics: written so far, and not yet committed."""

    #: The topics' end offsets, summed over their partitions.
    written: int
    #: Records beyond the group's committed offsets (all of them where it has none).
    behind: int


async def pipeline_backlogs(app_id: str, topic: Callable[[str], str]) -> dict[str, Backlog]:
    """What each agent's group of a one-process worker must read of the account stream.

    ``topic`` names a topic for the worker (its ``TOPIC_PREFIX`` applied). Every
    agent reads in a group of its own (:func:`app.guard.topic_batches.feed_group`),
    named after its handler; the logging agents are named after the prefixed
    topic they log. One client of each kind per call, and each topic's end
    offsets read once, however many groups read it: the soak calls this every
    10 s beside the worker it measures.
    """
    prefix = topic("user_events").removesuffix("user_events")
    read_by = {
        feed_group(app_id, "process_user_events"): ["user_events"],
        feed_group(app_id, f"log_{prefix}user_events"): ["user_events"],
        feed_group(app_id, f"log_{prefix}response_events"): ["response_events"],
        feed_group(app_id, f"log_{prefix}dead_letters"): ["dead_letters"],
        feed_group(app_id, "record_statuses"): ["response_events"],
    }
    topics = sorted({topic(name) for names in read_by.values() for name in names})
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    await consumer.start()
    try:
        described = await admin.describe_topics(topics)
        partitions = [
            TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]
        ]
        ends = await consumer.end_offsets(partitions)
        committed = {group: await admin.list_consumer_group_offsets(group) for group in read_by}
    finally:
        await admin.close()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer.stop()
    return {
        group: _backlog(ends, committed[group], {topic(name) for name in names})
        for group, names in read_by.items()
    }


def _backlog(
    ends: dict[TopicPartition, int], committed: dict[TopicPartition, object], topics: set[str]
) -> Backlog:
    """A group's backlog over ``topics``, from their end offsets and its committed ones."""
    mine = {tp: end for tp, end in ends.items() if tp.topic in topics}
    return Backlog(
        sum(mine.values()), sum(end - _offset(committed.get(tp)) for tp, end in mine.items())
    )


async def pipeline_lag(app_id: str, topic: Callable[[str], str]) -> int:
    """Records of the account stream some agent of a one-process worker has not finished."""
    return sum(b.behind for b in (await pipeline_backlogs(app_id, topic)).values())


def _offset(committed: object) -> int:
    offset = getattr(committed, "offset", -1)
    return max(0, int(offset))


class OutcomeWatcher:
    """Reads a ``response_events`` topic from its end: when each outcome arrived.

    Fetches are answered within :attr:`FETCH_WAIT_MS`, so an outcome is seen
    a few milliseconds after the worker produced it (no polling of the API).
    """

    FETCH_WAIT_MS = 5

    def __init__(self, topic: str, partitions: int) -> None:
        self.topic = topic
        self.partitions = partitions
        self.seen = 0
        #: Arrival (event-loop clock) of each correlation id's first outcome, and its status.
        self.arrivals: dict[str, tuple[float, str]] = {}
        #: Latest Kafka record timestamp (the worker's clock, epoch seconds).
        self.last_produced_at = 0.0
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=kafka_bootstrap(),
            enable_auto_commit=False,
            fetch_max_wait_ms=self.FETCH_WAIT_MS,
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> OutcomeWatcher:
        """Start reading from the topic's current end."""
        await self._consumer.start()
        self._consumer.assign([TopicPartition(self.topic, p) for p in range(self.partitions)])
        await self._consumer.seek_to_end()
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            now = loop.time()
            for record in (r for rs in batches.values() for r in rs):
                self.seen += 1
                self.last_produced_at = max(self.last_produced_at, record.timestamp / 1000)
                outcome = orjson.loads(record.value)
                self.arrivals.setdefault(outcome["correlation_id"], (now, outcome["status"]))

    async def wait_for(self, count: int, timeout_s: float) -> None:
        """Return once ``count`` outcomes were seen; ``TimeoutError`` after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while self.seen < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.seen}/{count} outcomes on {self.topic}")
            await asyncio.sleep(0.02)

    def pause(self) -> None:
        """Stop fetching until :meth:`resume`: its 5 ms fetches would cost the broker CPU
        that a phase measuring CPU would charge to the system."""
        self._consumer.pause(*self._consumer.assignment())

    def resume(self) -> None:
        """Fetch again (catching up on what arrived meanwhile)."""
        self._consumer.resume(*self._consumer.assignment())

    async def stop(self) -> None:
        """Stop reading."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        # aiokafka 0.14 without a group id re-raises its housekeeping task's cancellation.
        with contextlib.suppress(asyncio.CancelledError):
            await self._consumer.stop()
