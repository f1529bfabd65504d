"""Events Kafka's committed offset passed without being seen are read back: applied, logged.

Faust can ack and commit past events its agents never saw around a rebalance
(make chaos, scenario 5). These tests make that happen deterministically: they
commit the group's offsets past events while the worker is stopped, and check
that the agents' checkpoints bring them back, to PostgreSQL and to
Elasticsearch. Each test has topics (``TOPIC_PREFIX``) and a consumer group
(``APP_ID``) of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import OffsetAndMetadata
from elasticsearch import Elasticsearch

from app.correlation import CorrelationIds
from app.events import PreferencesUpdated, encode_event, response_event
from app.log_indices import SYSTEM_LOGS
from app.models import Preferences
from app.settings import get_settings
from tests.support.kafka import end_offsets, produce, run
from tests.support.services import kafka_bootstrap, pg_rows
from tests.support.workers import ADMIN, Worker, own_names, wait_for_final_status

pytestmark = pytest.mark.integration

USER_ID = 987_654_321  # unknown user: each event ends as an error outcome, still recorded
TOPICS = ("user_events", "response_events", "dead_letters")


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


async def commit_past(group: str, *topics: str) -> None:
    """Commit ``group``'s offsets at the end of ``topics``, as a skip would have."""
    ends = {tp: offset for topic in topics for tp, offset in (await end_offsets(topic)).items()}
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
    names = own_names(f"skip{uuid.uuid4().hex[:8]}")
    group, topic = names["APP_ID"], names["TOPIC_PREFIX"] + "user_events"
    worker = Worker(tmp_path / "w", **names).start()
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


def has_partitions(worker: Worker) -> bool:
    """Whether ``worker`` has joined its group and been given partitions."""
    with worker.client() as client:
        state = client.get("/health").json()["dependencies"]["worker"]
    return state["status"] == "up" and state["assigned_partitions"] > 0


def stalling_worker(tmp_path: Path, name: str, **env: str) -> tuple[Worker, str, str]:
    """A worker (not started) that judges stalls after 1 s (or ``env``'s); its group and topic."""
    names = own_names(f"{name}{uuid.uuid4().hex[:8]}")
    worker = Worker(tmp_path / "w", **{"STALL_AFTER_S": "1", **env, **names})
    return worker, names["APP_ID"], worker.topic("user_events")


def strand_events(worker: Worker, group: str, topic: str) -> list[tuple[bytes, bytes]]:
    """Stop ``worker``, produce events and commit its group past them, restart it."""
    worker.stop(signal.SIGTERM)
    stranded = events(3)
    run(produce(topic, stranded))
    run(commit_past(group, topic))  # the group never saw them, Kafka says it did
    worker.start()
    return stranded


def test_events_a_new_group_committed_past_before_its_first_batch_are_applied(
    tmp_path: Path,
) -> None:
    """No checkpoint exists yet: the stall audit reads from the start of the log."""
    worker, group, topic = stalling_worker(tmp_path, "fresh")
    try:
        worker.start()
        run(wait_for_topics([topic]))
        # Stopped mid-join, the group would still be rebalancing when we commit.
        assert wait_until(lambda: has_partitions(worker))
        stranded = strand_events(worker, group, topic)
        assert wait_recorded(stranded) == 3
    finally:
        worker.stop()


def test_events_committed_past_with_nothing_after_them_are_applied_once_stalled(
    tmp_path: Path,
) -> None:
    """No later event reveals the gap: the stall audit must find it on its own."""
    worker, group, topic = stalling_worker(tmp_path, "stall")
    try:
        worker.start()
        before = events(3)
        run(produce(topic, before))
        assert wait_recorded(before) == 3
        stranded = strand_events(worker, group, topic)
        assert wait_recorded(stranded) == 3
    finally:
        worker.stop()


def wait_until(check: Callable[[], bool], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while not (done := check()) and time.monotonic() < deadline:
        time.sleep(0.3)
    return done


def logged(es: Elasticsearch, correlation_ids: list[str]) -> set[tuple[str, str]]:
    """``(topic, correlation id)`` of the ``system_logs`` documents naming these ids."""
    es.indices.refresh(index=SYSTEM_LOGS)
    found = es.search(
        index=SYSTEM_LOGS, query={"terms": {"correlation_id": correlation_ids}}, size=1000
    )
    return {(h["_source"]["topic"], h["_source"]["correlation_id"]) for h in found["hits"]["hits"]}


def log_checkpoints_at_end(group: str, topics: list[str]) -> bool:
    """Whether the logging agents have checkpointed every record of ``topics``."""
    rows = pg_rows(
        "SELECT topic, partition, next_offset FROM agent_checkpoints"
        " WHERE group_id = %s AND agent = 'event_log'",
        [group],
    )
    saved = {(topic, partition): offset for topic, partition, offset in rows}
    for topic in topics:
        ends = {(tp.topic, tp.partition): end for tp, end in run(end_offsets(topic)).items() if end}
        if not ends or any(saved.get(tp) != end for tp, end in ends.items()):
            return False
    return True


async def wait_for_topics(topics: list[str], timeout: float = 30) -> None:
    """Return once the worker has created ``topics`` (with its partition count).

    A worker answers ``/health`` before it has declared its topics, and writing
    to a missing topic would create it with the broker's default partitions.
    Listing every topic, unlike asking for some by name, creates none.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        deadline = time.monotonic() + timeout
        while not set(topics) <= set(await admin.list_topics()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the worker did not create {topics}")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


def correlation_id(value: bytes) -> str:
    return str(orjson.loads(value)["correlation_id"])


def response_record() -> tuple[bytes, bytes]:
    """An outcome on ``response_events``, as processing writes it."""
    (_, value), *_ = events(1)
    request = PreferencesUpdated.model_validate_json(value)
    outcome = response_event(request, "error", "Usuário não encontrado")
    return request.correlation_id.encode(), orjson.dumps(outcome)


def dead_letter_record(topic: str) -> tuple[bytes, bytes]:
    """A dead letter refusing a request that names its correlation id."""
    (_, payload), *_ = events(1)
    letter = {
        "event_type": "dead_letter",
        "stage": "processing",
        "reason": "refused by the test",
        "topic": topic,
        "partition": 0,
        "offset": 1_000_000,
        "payload": payload.decode(),
    }
    return correlation_id(payload).encode(), orjson.dumps(letter)


def test_events_committed_past_on_every_topic_are_still_logged(
    tmp_path: Path, es: Elasticsearch
) -> None:
    names = own_names(f"skiplog{uuid.uuid4().hex[:8]}")
    prefix, group = names["TOPIC_PREFIX"], names["APP_ID"]
    topics = [f"{prefix}{name}" for name in TOPICS]
    user_events, response_events, dead_letters = topics
    worker = Worker(tmp_path / "w", TOPIC_PARTITIONS="1", **names).start()
    try:
        run(wait_for_topics(topics))
        # Every topic gets records (a poison event makes a dead letter), and every
        # logging agent a checkpoint after them.
        run(produce(user_events, [*events(2), (None, b"not json")]))
        assert wait_until(lambda: log_checkpoints_at_end(group, topics))
        worker.stop(signal.SIGTERM)

        requests = events(3)
        outcome, letter = response_record(), dead_letter_record(user_events)
        run(produce(user_events, requests))
        run(produce(response_events, [outcome]))
        run(produce(dead_letters, [letter]))
        run(commit_past(group, *topics))  # Kafka now says all of them were logged

        worker.start()
        run(produce(user_events, [*events(1), (None, b"not json")]))  # beyond each checkpoint
        wanted = {(user_events, correlation_id(value)) for _, value in requests}
        wanted |= {
            (response_events, correlation_id(outcome[1])),
            (dead_letters, letter[0].decode()),
        }
        ids = [cid for _, cid in wanted]
        assert wait_until(lambda: wanted <= logged(es, ids)), logged(es, ids)
    finally:
        worker.stop()


def strand_outcome(worker: Worker, group: str) -> tuple[bytes, bytes]:
    """Start ``worker``, stop it, produce an outcome its group is committed past; restart it."""
    worker.start()
    with worker.client() as api:
        accepted = api.post("/usuarios")
        assert accepted.status_code == 202
        wait_for_final_status(api, accepted.json()["correlation_id"])  # a checkpoint exists
    worker.stop(signal.SIGTERM)
    outcome = response_record()
    response_events = worker.topic("response_events")
    run(produce(response_events, [outcome]))
    run(commit_past(group, response_events))  # the group never saw it, Kafka says it did
    worker.start()
    return outcome


def test_outcomes_committed_past_still_become_final_statuses(tmp_path: Path) -> None:
    """The status agent is guarded too: an outcome Faust skipped is read back into the table."""
    worker, group, _ = stalling_worker(tmp_path, "status")
    try:
        outcome = strand_outcome(worker, group)
        with worker.client() as api:
            status = wait_for_final_status(api, outcome[0].decode(), timeout=60)
        assert status["status"] == "error"
        assert status["message"] == "Usuário não encontrado"
    finally:
        worker.stop()


def partition_of(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner gives ``key``."""
    every = list(range(partitions))
    return int(DefaultPartitioner()(key, every, every))


#: Partitions of the busy test's topics: the stranded one and one kept busy.
BUSY_PARTITIONS = 2


def keep_busy(topic: str, avoiding: int, stop: threading.Event) -> None:
    """Produce an outcome every 0.2 s to ``topic``'s partitions but ``avoiding``, until ``stop``."""
    while not stop.is_set():
        record = response_record()
        if partition_of(record[0], BUSY_PARTITIONS) != avoiding:
            run(produce(topic, [record]))
        stop.wait(0.2)


def test_an_outcome_committed_past_becomes_final_while_other_partitions_keep_the_agent_busy(
    tmp_path: Path,
) -> None:
    """A stream that holds back one partition is caught while the others keep flowing."""
    # Idle for 3 s the agent never is, so only a per-partition judgement finds the gap.
    worker, group, _ = stalling_worker(
        tmp_path, "busy", STALL_AFTER_S="3", TOPIC_PARTITIONS=str(BUSY_PARTITIONS)
    )
    response_events = worker.topic("response_events")
    stop = threading.Event()
    try:
        outcome = strand_outcome(worker, group)
        busy = threading.Thread(
            target=keep_busy,
            args=(response_events, partition_of(outcome[0], BUSY_PARTITIONS), stop),
        )
        busy.start()
        with worker.client() as api:
            status = wait_for_final_status(api, outcome[0].decode(), timeout=30)
        assert status["status"] == "error"
    finally:
        stop.set()
        worker.stop()
