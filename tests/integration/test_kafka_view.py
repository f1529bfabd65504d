"""The dashboard's Kafka view against a real worker and broker: topics, groups, lag, messages."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.masking import SEALED_MASK
from app.sealing import PERSONAL_FIELDS
from harness.workers import Worker, wait_for_final_status

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def accepted(worker: Worker) -> list[str]:
    """Correlation ids of three sign-ups, each applied."""
    with worker.client() as api:
        ids = [api.post("/usuarios").json()["correlation_id"] for _ in range(3)]
        for correlation_id in ids:
            wait_for_final_status(api, correlation_id)
    return ids


def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """``check()``'s first truthy result, trying every half second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    raise TimeoutError("condition not met in time")


def test_topics_list_the_workers_own_first_with_offsets(
    api: httpx.Client, worker: Worker, accepted: list[str]
) -> None:
    answer = api.get("/api/kafka/topics")
    assert answer.status_code == 200
    body = answer.json()
    topics = {t["name"]: t for t in body["topics"]}
    user_events = topics[worker.topic("user_events")]
    assert user_events["app"] is True and user_events["messages"] >= len(accepted)
    assert len(user_events["partitions"]) == 8
    first = user_events["partitions"][0]
    assert set(first) == {"partition", "leader", "beginning", "end", "messages"}
    flags = [t["app"] for t in body["topics"]]
    assert flags == sorted(flags, reverse=True), "this app's topics come first"


def test_the_workers_groups_are_listed_and_their_lag_is_per_partition(
    api: httpx.Client, worker: Worker, accepted: list[str]
) -> None:
    body = api.get("/api/kafka/groups").json()
    groups = _by_id(body["groups"])
    assert {"group_id": body["app_group"], "app": True}.items() <= groups[body["app_group"]].items()
    # The processing agent reads user_events in a group of its own (app.guard.topic_batches).
    group = f"{body['app_group']}.process_user_events"
    assert {"group_id": group, "app": True}.items() <= groups[group].items()

    def committed_on_user_events() -> list[dict[str, Any]]:
        lag = api.get(f"/api/kafka/groups/{group}").json()
        return [
            p
            for p in lag.get("partitions", [])
            if p["topic"] == worker.topic("user_events") and p["committed"] is not None
        ]

    partitions = eventually(committed_on_user_events)
    assert all(p["lag"] == p["end"] - p["committed"] >= 0 for p in partitions)


def test_messages_are_newest_first_and_masked(
    api: httpx.Client, worker: Worker, accepted: list[str]
) -> None:
    topic = worker.topic("user_events")
    answer = api.get(f"/api/kafka/topics/{topic}/messages", params={"limit": 50})
    assert answer.status_code == 200
    messages = answer.json()["messages"]
    signups = [m for m in messages if m["value"]["correlation_id"] in accepted]
    assert len(signups) == len(accepted)
    for message in signups:
        assert message["format"] == "json"
        # Sealed with the person's key on the topic (docs/privacy.md), shown as sealed.
        assert [message["value"][field] for field in PERSONAL_FIELDS] == [SEALED_MASK] * 3
    times = [m["timestamp"] for m in messages]
    assert times == sorted(times, reverse=True)


def test_unknown_topic_and_group_are_404_and_create_nothing(
    api: httpx.Client, worker: Worker
) -> None:
    missing = worker.topic(f"missing-{uuid.uuid4().hex[:8]}")
    for _ in range(2):  # a look that created the topic would find it the second time
        assert api.get(f"/api/kafka/topics/{missing}/messages").status_code == 404
    names = {t["name"] for t in api.get("/api/kafka/topics").json()["topics"]}
    assert missing not in names
    assert api.get(f"/api/kafka/groups/{missing}").status_code == 404


def test_a_bad_limit_is_422(api: httpx.Client, worker: Worker) -> None:
    topic = worker.topic("user_events")
    answer = api.get(f"/api/kafka/topics/{topic}/messages", params={"limit": 1000})
    assert answer.status_code == 422


def test_the_kafka_view_needs_the_admin_scope(worker: Worker) -> None:
    with worker.client("alice") as alice:
        assert alice.get("/api/kafka/topics").status_code == 403
    with worker.client(None) as nobody:
        assert nobody.get("/api/kafka/groups").status_code == 401


def _by_id(groups: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {g["group_id"]: g for g in groups}
