"""Statuses live in a replicated table: they survive restarts and serve from any worker."""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import faust
import httpx
import pytest

from app.kafka.topics import Topics
from app.settings import get_settings
from harness.workers import Worker, outcome_of, own_names, wait_for_final_status

pytestmark = pytest.mark.integration

#: Every topic of the app, without this process's prefix (a test worker has its own).
TOPICS = [
    t.get_topic_name().removeprefix(get_settings().topic_prefix)
    for t in Topics(faust.App("workers-test"), get_settings()).all
]
#: The changelog topic of each table of a worker of every role (tables/).
CHANGELOGS = [
    f"{table}-changelog"
    for table in ("correlation_status", "user_sessions", "trending_viewers", "recommendations")
]
#: Time for a worker's standby copy of the other's table partitions to catch up.
STANDBY_CATCH_UP_S = 3.0


def accept_users(client: httpx.Client, count: int) -> list[str]:
    """Correlation ids of ``count`` demo sign-ups accepted by ``client``'s worker."""
    answers = [client.post("/usuarios") for _ in range(count)]
    assert [a.status_code for a in answers] == [202] * count
    return [a.json()["correlation_id"] for a in answers]


def test_a_worker_declares_every_topic_and_sees_it_listed_before_its_consumer_starts(
    tmp_path: Path,
) -> None:
    """So the group's first assignment knows every topic the worker reads.

    Faust's leader leaves out topics its consumer's metadata does not know yet,
    and a worker restarted under the same WORKER_INSTANCE_ID is handed that
    assignment back without a rebalance: such a topic stays unread (make test,
    chaos scenario 1). A changelog left out leaves its table refusing every
    write (chaos scenario 6).
    """
    names = own_names("declare")
    prefix = names["TOPIC_PREFIX"]
    worker = Worker(tmp_path / "declare", **names).start()
    try:
        worker.wait_ready()
        log = worker.log_path.read_text()
        consumer_starts = log.index("[^--Consumer]: Starting")
        for topic in TOPICS:
            created = log.index(f"Creating topic '{prefix}{topic}'")
            assert created < consumer_starts, topic
        listed_at = log.index("Kafka lists every topic of this worker")
        assert listed_at < consumer_starts
        listed = log[listed_at : log.index("\n", listed_at)]
        for topic in [*TOPICS, *CHANGELOGS]:
            assert f"{prefix}{topic}" in listed, topic
        assert "Ignoring missing topic" not in log
    finally:
        worker.stop()


def test_statuses_survive_a_crash_and_a_lost_data_dir(tmp_path: Path) -> None:
    # Its own topics and group, so restarting it never disturbs the shared worker.
    worker = Worker(
        tmp_path / "restart", WORKER_INSTANCE_ID="restart-test-1", **own_names("restart")
    ).start()
    try:
        with worker.client() as client:
            ids = accept_users(client, 5)
            before = {cid: outcome_of(wait_for_final_status(client, cid)) for cid in ids}
        worker.stop(signal.SIGKILL)
        shutil.rmtree(worker.data_dir)  # RocksDB gone: only the changelog remains
        worker.start()
        with worker.client() as client:
            after = {cid: outcome_of(wait_for_final_status(client, cid)) for cid in ids}
            assert after == before
    finally:
        worker.stop()


def test_any_status_is_readable_through_either_of_two_workers(
    worker: Worker, tmp_path: Path
) -> None:
    second = Worker(tmp_path / "second").start()
    try:
        with worker.client() as first_api, second.client() as second_api:
            ids = accept_users(first_api, 10) + accept_users(second_api, 10)
            for cid in ids:
                through_first = wait_for_final_status(first_api, cid, timeout=60)
                through_second = wait_for_final_status(second_api, cid, timeout=60)
                assert outcome_of(through_first) == outcome_of(through_second)
                assert through_first["status"] == "success"
    finally:
        second.stop()


def test_final_statuses_stay_readable_through_the_survivor_while_the_group_notices_a_death(
    tmp_path: Path,
) -> None:
    """The dead owner's statuses come from the survivor's standby copy, not a 503."""
    env = own_names("standby")
    instance = env["APP_ID"]
    first = Worker(tmp_path / "first", WORKER_INSTANCE_ID=f"{instance}-1", **env).start()
    second = Worker(tmp_path / "second", WORKER_INSTANCE_ID=f"{instance}-2", **env).start()
    try:
        with first.client() as first_api, second.client() as second_api:
            ids = accept_users(first_api, 10) + accept_users(second_api, 10)
            before = {cid: wait_for_final_status(second_api, cid, timeout=60) for cid in ids}
            time.sleep(STANDBY_CATCH_UP_S)  # the standby copies follow the changelog
            first.stop(signal.SIGKILL)
            # Well inside the 10 s session timeout: the group still names the dead owner.
            answers = {cid: second_api.get(f"/status/{cid}") for cid in ids}
        assert {cid: a.status_code for cid, a in answers.items()} == {cid: 200 for cid in ids}
        assert {cid: outcome_of(a.json()) for cid, a in answers.items()} == {
            cid: outcome_of(status) for cid, status in before.items()
        }
    finally:
        first.stop()
        second.stop()
