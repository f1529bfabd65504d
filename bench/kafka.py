"""The bench's own topics: create them, pre-load them, watch outcomes land, delete them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Sequence

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from app.topic_batches import feed_group
from tests.support.services import kafka_bootstrap

#: Records produced before waiting for their acknowledgements.
PRODUCE_WINDOW = 10_000


async def create_topics(
    partitions: dict[str, int], replication_factor: int = 1, config: dict[str, str] | None = None
) -> None:
    """Create each topic with its partition count (before anything is produced to it).

    ``replication_factor`` copies of each, with ``config`` (e.g. ``min.insync.replicas``).
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        new = [
            NewTopic(name, count, replication_factor, topic_configs=config or {})
            for name, count in partitions.items()
        ]
        await admin.create_topics(new)
        await _wait_for_leaders(admin, list(partitions))
    finally:
        await admin.close()


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Return once every partition of ``names`` has a leader (producing then succeeds)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        described = await admin.describe_topics(names)
        partitions = [p for topic in described for p in topic["partitions"]]
        if all(t["error_code"] == 0 for t in described) and all(
            p["leader"] >= 0 for p in partitions
        ):
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"topics {names} have no leaders")


async def broker_count() -> int:
    """How many brokers the cluster has now."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        return len((await admin.describe_cluster())["brokers"])
    finally:
        await admin.close()


async def partition_leaders(topic: str) -> Counter[int]:
    """How many partitions of ``topic`` each broker (by node id) leads."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        return Counter(p["leader"] for p in described["partitions"])
    finally:
        await admin.close()


async def group_lag(group: str, topics: Sequence[str]) -> int:
    """Records of ``topics`` beyond ``group``'s committed offsets (all of them if none)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        described = await admin.describe_topics(list(topics))
        partitions = [
            TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]
        ]
        ends = await consumer.end_offsets(partitions)
    finally:
        await admin.close()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer.stop()
    return sum(end - _offset(committed.get(tp)) for tp, end in ends.items())


async def pipeline_lag(app_id: str, topic: Callable[[str], str]) -> int:
    """Records of the account stream some agent of a one-process worker has not finished.

    ``topic`` names a topic for the worker (its ``TOPIC_PREFIX`` applied). Every
    agent reads in a group of its own (:func:`app.topic_batches.feed_group`),
    named after its handler; the logging agents are named after the prefixed
    topic they log.
    """
    prefix = topic("user_events").removesuffix("user_events")
    read_by = {
        feed_group(app_id, "process_user_events"): ["user_events"],
        feed_group(app_id, f"log_{prefix}user_events"): ["user_events"],
        feed_group(app_id, f"log_{prefix}response_events"): ["response_events"],
        feed_group(app_id, f"log_{prefix}dead_letters"): ["dead_letters"],
        feed_group(app_id, "record_statuses"): ["response_events"],
    }
    lags = await asyncio.gather(
        *(group_lag(group, [topic(name) for name in names]) for group, names in read_by.items())
    )
    return sum(lags)


def _offset(committed: object) -> int:
    offset = getattr(committed, "offset", -1)
    return max(0, int(offset))


async def delete_topics(prefixes: Sequence[str]) -> list[str]:
    """Delete every topic whose name starts with one of ``prefixes``; return their names."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(tuple(prefixes))]
        if names:
            await admin.delete_topics(names)
        return names
    finally:
        await admin.close()


async def produce_all(topic: str, records: Sequence[tuple[bytes, bytes]]) -> None:
    """Write ``(key, value)`` records to ``topic``, batched, and wait for every ack."""
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap(), linger_ms=20, max_batch_size=1024 * 1024, acks="all"
    )
    await producer.start()
    try:
        for first in range(0, len(records), PRODUCE_WINDOW):
            window = records[first : first + PRODUCE_WINDOW]
            sent = [await producer.send(topic, value=value, key=key) for key, value in window]
            await asyncio.gather(*sent)
    finally:
        await producer.stop()


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
