"""Every topic into system_logs on the real services: once each, masked, through an outage.

The worker here has topics and a consumer group of its own, so every
document it logs comes from these tests.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from elasticsearch import Elasticsearch

from app.eventlog.indices import SYSTEM_LOGS
from harness.services import kafka_bootstrap
from harness.workers import Worker, own_names, wait_for_final_status

pytestmark = pytest.mark.integration

STACK_HOME = Path(os.environ.get("STACK_HOME", "/var/lib/streaming-stack"))
ES_PIDFILE = STACK_HOME / "elasticsearch" / "run" / "elasticsearch.pid"
REQUESTS = 12
NAMES = own_names("eventlog")
USER_EVENTS, RESPONSE_EVENTS, DEAD_LETTERS = (
    NAMES["TOPIC_PREFIX"] + base for base in ("user_events", "response_events", "dead_letters")
)


@pytest.fixture(scope="module")
def log_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A worker with topics and a consumer group of its own, indexing in small, quick batches."""
    worker = Worker(tmp_path_factory.mktemp("event-log"), LOG_BATCH_WAIT_S="0.2", **NAMES).start()
    yield worker
    worker.stop()


@pytest.fixture
def api(log_worker: Worker) -> Iterator[httpx.Client]:
    with log_worker.client() as client:
        yield client


def send_requests(api: httpx.Client, count: int) -> list[dict[str, Any]]:
    """``count`` accepted requests (new users with demo personal data, then their payments)."""
    answers = [api.post("/usuarios") for _ in range(count - count // 3)]
    assert {a.status_code for a in answers} == {202}, answers[0].text
    user_id = answers[0].json()["usuario"]["user_id"]
    answers += [api.post(f"/usuarios/{user_id}/pagamento") for _ in range(count // 3)]
    assert {a.status_code for a in answers} == {202}, answers[-1].text
    return [a.json() for a in answers]


def documents_of(es: Elasticsearch, correlation_ids: list[str]) -> list[dict[str, Any]]:
    es.indices.refresh(index=SYSTEM_LOGS)
    found = es.search(
        index=SYSTEM_LOGS,
        query={"terms": {"correlation_id": correlation_ids}},
        size=10 * len(correlation_ids),
    )
    return [{"_id": hit["_id"], **hit["_source"]} for hit in found["hits"]["hits"]]


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not {what} after {timeout}s")
        time.sleep(0.25)


def one_request_and_one_response_each(es: Elasticsearch, correlation_ids: list[str]) -> bool:
    per_topic = Counter(
        (d["correlation_id"], d["topic"]) for d in documents_of(es, correlation_ids)
    )
    expected = {(cid, t): 1 for cid in correlation_ids for t in (USER_EVENTS, RESPONSE_EVENTS)}
    return dict(per_topic) == expected


def personal_data(answers: list[dict[str, Any]]) -> set[str]:
    users = [a["usuario"] for a in answers if "usuario" in a]
    return {u[field] for u in users for field in ("nome", "email", "cpf")}


def test_every_request_and_response_is_logged_once_masked(
    api: httpx.Client, es: Elasticsearch
) -> None:
    started = time.time()
    answers = send_requests(api, REQUESTS)
    ids = [a["correlation_id"] for a in answers]
    for cid in ids:
        wait_for_final_status(api, cid)

    wait_until(lambda: one_request_and_one_response_each(es, ids), 30, "logged once each")
    docs = documents_of(es, ids)
    assert {d["_id"] for d in docs} == {
        f"{t}:{c}" for c in ids for t in (USER_EVENTS, RESPONSE_EVENTS)
    }
    responses = [d for d in docs if d["topic"] == RESPONSE_EVENTS]
    assert all(d["status"] in ("success", "error") and d["latency_ms"] >= 0 for d in responses)

    es.indices.refresh(index=SYSTEM_LOGS)
    recent = es.search(
        index=SYSTEM_LOGS, query={"range": {"logged_at": {"gte": int(started * 1000)}}}, size=10_000
    )
    text = orjson.dumps([hit["_source"] for hit in recent["hits"]["hits"]]).decode()
    leaked = [secret for secret in personal_data(answers) if secret in text]
    assert leaked == []


def test_log_trail_is_request_then_response(api: httpx.Client, es: Elasticsearch) -> None:
    (answer,) = send_requests(api, 1)
    cid = answer["correlation_id"]
    wait_for_final_status(api, cid)
    wait_until(lambda: one_request_and_one_response_each(es, [cid]), 30, "logged")

    trail = api.get(f"/logs/{cid}")
    assert trail.status_code == 200
    events = trail.json()["eventos"]
    assert [(e["topic"], e["event_type"]) for e in events] == [
        (USER_EVENTS, "criar_usuario"),
        (RESPONSE_EVENTS, "response"),
    ]
    assert api.get(f"/logs/{uuid.uuid4()}").status_code == 404
    assert api.get("/logs/not-an-id").status_code == 404


def test_a_document_elasticsearch_refuses_becomes_a_dead_letter_once(
    api: httpx.Client, es: Elasticsearch
) -> None:
    cid = str(uuid.uuid4())
    poison = {"event_type": "atualizar_assinatura", "correlation_id": cid, "user_id": 1}
    poison["plano"] = {"not": "a keyword"}  # the mapping holds event.plano as a keyword
    asyncio.run(produce(USER_EVENTS, orjson.dumps(poison)))

    seen: list[tuple[str, str | None]] = []

    def logged() -> bool:
        seen[:] = sorted((d["topic"], d.get("stage")) for d in documents_of(es, [cid]))
        return seen == [
            (DEAD_LETTERS, "event_log"),
            (DEAD_LETTERS, "processing"),
            (RESPONSE_EVENTS, None),
            (USER_EVENTS, None),
        ]

    try:
        wait_until(logged, 30, "dead-lettered")
    except TimeoutError as exc:
        raise AssertionError(f"documents seen: {seen}") from exc
    request = next(d for d in documents_of(es, [cid]) if d["topic"] == USER_EVENTS)
    assert set(request["event"]) == {"unindexed"}  # kept, as text only
    trail = api.get(f"/logs/{cid}").json()["eventos"]
    assert trail[0]["topic"] == USER_EVENTS  # then letters and outcome, as they happened
    assert sorted(e["topic"] for e in trail[1:]) == [
        DEAD_LETTERS,
        DEAD_LETTERS,
        RESPONSE_EVENTS,
    ]
    assert [e["timestamp"] for e in trail] == sorted(e["timestamp"] for e in trail)


@pytest.mark.disruptive  # pauses the shared Elasticsearch
def test_elasticsearch_outage_loses_and_doubles_nothing(
    log_worker: Worker, api: httpx.Client, es: Elasticsearch
) -> None:
    pid = elasticsearch_pid()
    fallback = log_worker.data_dir / "es-fallback.jsonl"
    os.kill(pid, signal.SIGSTOP)
    try:
        answers = send_requests(api, REQUESTS)
        ids = [a["correlation_id"] for a in answers]
        for cid in ids:
            wait_for_final_status(api, cid)
        wait_until(lambda: all(cid.encode() in read(fallback) for cid in ids), 60, "kept aside")
        health = api.get("/health")
        assert health.status_code == 200
        assert health.json()["dependencies"]["elasticsearch"]["status"] == "down"
        assert api.get(f"/logs/{ids[0]}").status_code == 503
    finally:
        os.kill(pid, signal.SIGCONT)

    replaying = fallback.with_name(fallback.name + ".replaying")
    wait_until(lambda: not read(fallback) and not replaying.exists(), 60, "replayed")
    wait_until(lambda: one_request_and_one_response_each(es, ids), 30, "logged once each")
    assert api.get("/health").json()["dependencies"]["elasticsearch"]["status"] == "up"


def elasticsearch_pid() -> int:
    try:
        return int(ES_PIDFILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pytest.skip(f"no Elasticsearch pid in {ES_PIDFILE} (run as root with `make up`)")


def read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


async def produce(topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(), acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=b"1")
    finally:
        await producer.stop()
