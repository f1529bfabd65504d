"""Every agent starts each partition at its checkpoint in PostgreSQL, whatever Kafka says.

An agent's consumer group commits offsets to Kafka for the dashboards' lag,
but never trusts them: after a restart the agent reads each partition from
the checkpoint it saved once a batch was finished. These tests commit an
agent's group past events while its worker is stopped (what Faust's own
streams could do around a rebalance) and show the events applied, logged and
recorded all the same. Each test has topics (``TOPIC_PREFIX``) and a consumer
group (``APP_ID``) of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import OffsetAndMetadata

from app.accounts.commands import Preferences, PreferencesUpdated
from app.guard.topic_batches import feed_group
from app.requests.envelope import CorrelationIds, encode_event
from app.requests.outcomes import response_event
from app.settings import get_settings
from harness.broker import end_offsets, produce, run
from harness.services import kafka_bootstrap, pg_rows
from harness.workers import ADMIN, Worker, own_names, wait_for_final_status

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
    """Commit ``group``'s offsets at the end of ``topic``: Kafka says all was handled."""
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


def worker_of(tmp_path: Path, name: str) -> tuple[Worker, str]:
    names = own_names(f"{name}{uuid.uuid4().hex[:8]}")
    return Worker(tmp_path / "w", **names), names["APP_ID"]


def test_events_the_processing_group_committed_past_are_applied_after_a_restart(
    tmp_path: Path,
) -> None:
    worker, app_id = worker_of(tmp_path, "skip")
    topic = worker.topic("user_events")
    worker.start()
    try:
        before = events(3)
        run(produce(topic, before))
        assert wait_recorded(before) == 3  # the checkpoint now stands after them
        worker.stop(signal.SIGTERM)

        skipped = events(3)
        run(produce(topic, skipped))
        run(commit_past(feed_group(app_id, "process_user_events"), topic))

        worker.start()
        assert wait_recorded(skipped) == 3
    finally:
        worker.stop()


def outcome_record() -> tuple[bytes, bytes]:
    """An outcome on ``response_events``, as processing writes it."""
    (_, value), *_ = events(1)
    request = PreferencesUpdated.model_validate_json(value)
    outcome = response_event(request, "error", "Usuário não encontrado")
    return request.correlation_id.encode(), orjson.dumps(outcome)


def test_outcomes_the_status_group_committed_past_become_final_statuses(tmp_path: Path) -> None:
    """The status agent reads from its checkpoint too, though it writes a Faust table."""
    worker, app_id = worker_of(tmp_path, "status")
    topic = worker.topic("response_events")
    worker.start()
    try:
        first = outcome_record()
        run(produce(topic, [first]))
        with worker.client() as api:
            wait_for_final_status(api, first[0].decode(), timeout=60)
        worker.stop(signal.SIGTERM)

        stranded = outcome_record()
        run(produce(topic, [stranded]))
        run(commit_past(feed_group(app_id, "record_statuses"), topic))

        worker.start()
        with worker.client() as api:
            status = wait_for_final_status(api, stranded[0].decode(), timeout=60)
        assert (status["status"], status["message"]) == ("error", "Usuário não encontrado")
    finally:
        worker.stop()
