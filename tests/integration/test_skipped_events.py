"""Events Kafka's committed offset passed without processing are read back and applied.

Faust can ack and commit past events its agents never saw around a rebalance
(make chaos, scenario 5). This test makes that happen deterministically: it
commits the group's offset past three events while the worker is stopped, and
checks that the processing checkpoint brings them back.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import OffsetAndMetadata

from app.correlation import CorrelationIds
from app.events import PreferencesUpdated, encode_event
from app.models import Preferences
from app.settings import get_settings
from tests.support.kafka import end_offsets, produce, run
from tests.support.services import kafka_bootstrap, pg_rows
from tests.support.workers import ADMIN, Worker

pytestmark = pytest.mark.integration

USER_ID = 987_654_321  # unknown user: each event ends as an error outcome, still recorded


def events(count: int) -> list[tuple[bytes, bytes]]:
    ids = CorrelationIds(get_settings().correlation_secret)
    made = [
        PreferencesUpdated(
            correlation_id=ids.issue(ADMIN), user_id=USER_ID, preferencias=Preferences()
        )
        for _ in range(count)
    ]
    return [(str(USER_ID).encode(), encode_event(event)) for event in made]


def recorded(records: list[tuple[bytes, bytes]]) -> int:
    cids = [PreferencesUpdated.model_validate_json(value).correlation_id for _, value in records]
    rows = pg_rows(
        "SELECT count(*) FROM processed_events WHERE correlation_id::text = ANY(%s)", [cids]
    )
    return int(rows[0][0])


def wait_recorded(records: list[tuple[bytes, bytes]], timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while (count := recorded(records)) < len(records) and time.monotonic() < deadline:
        time.sleep(0.3)
    return count


async def commit_past(group: str, topic: str) -> None:
    """Commit ``group``'s offsets at the end of ``topic``, as a skip would have."""
    ends = await end_offsets(topic)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap(), group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in ends.items()})
    finally:
        with contextlib.suppress(asyncio.CancelledError):
            await consumer.stop()


def test_events_committed_past_but_never_processed_are_applied(tmp_path: Path) -> None:
    prefix = f"skip{uuid.uuid4().hex[:8]}-"
    group = f"skip-test-{uuid.uuid4().hex[:8]}"
    topic = f"{prefix}user_events"
    worker = Worker(tmp_path / "w", APP_ID=group, TOPIC_PREFIX=prefix).start()
    try:
        before = events(3)
        run(produce(topic, before))
        assert wait_recorded(before) == 3  # the checkpoint now stands after them
        worker.stop(signal.SIGTERM)

        skipped = events(3)
        run(produce(topic, skipped))
        run(commit_past(group, topic))  # Kafka now says they were processed

        worker.start()
        after = events(1)
        run(produce(topic, after))
        assert wait_recorded(after) == 1
        assert wait_recorded(skipped) == 3
    finally:
        worker.stop()
