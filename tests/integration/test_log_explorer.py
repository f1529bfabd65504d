"""The log explorer (``GET /logs``) on the real services: filters, histogram, ownership."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch

from app.eventlog.indices import SYSTEM_LOGS, LogIndices
from harness.workers import Worker, wait_for_final_status

pytestmark = pytest.mark.integration


def search(client: httpx.Client, **params: Any) -> dict[str, Any]:
    answer = client.get("/logs", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def request_as(worker: Worker, caller: str) -> str:
    """A sign-up by ``caller``, once its request and outcome are both indexed."""
    with worker.client(caller) as client:
        correlation_id: str = client.post("/usuarios").json()["correlation_id"]
        wait_for_final_status(client, correlation_id)
    with worker.client() as admin:
        deadline = time.monotonic() + 30
        while search(admin, correlation_id=correlation_id)["total"] < 2:
            assert time.monotonic() < deadline, "documents not indexed in 30 s"
            time.sleep(0.3)
    return correlation_id


@pytest.fixture(scope="module")
def alices(worker: Worker) -> str:
    return request_as(worker, "alice")


@pytest.fixture(scope="module")
def bobs(worker: Worker) -> str:
    return request_as(worker, "bob")


@pytest.fixture
def old_document(es: Elasticsearch) -> Iterator[str]:
    """A document indexed before ``requested_by`` was a field: its requester only in ``event``."""
    correlation_id = str(uuid.uuid4())
    doc_id = f"test-old-document:{correlation_id}"
    index = LogIndices(SYSTEM_LOGS).index_for(datetime.now(UTC))  # the alias reads it
    es.index(
        index=index,
        id=doc_id,
        refresh=True,
        document={
            "timestamp": datetime.now(UTC).isoformat(),
            "topic": "user_events",
            "partition": 0,
            "offset": 0,
            "correlation_id": correlation_id,
            "event_type": "criar_usuario",
            "event": {"event_type": "criar_usuario", "requested_by": "alice"},
        },
    )
    yield correlation_id
    es.delete(index=index, id=doc_id, refresh=True)


def test_an_admin_finds_a_request_by_correlation_id_with_its_histogram(
    api: httpx.Client, alices: str
) -> None:
    body = search(api, correlation_id=alices)
    assert body["total"] == 2 and body["escopo"] == "todos"
    assert {d["topic"].rsplit("-", 1)[-1] for d in body["eventos"]} == {
        "user_events",
        "response_events",
    }
    assert {d["requested_by"] for d in body["eventos"]} == {"alice"}
    bars = body["histograma"]["barras"]
    assert body["histograma"]["intervalo"] and sum(b["count"] for b in bars) == 2
    assert {f["value"] for f in body["facetas"]["event_type"]} == {"criar_usuario", "response"}


def test_filters_narrow_the_search(api: httpx.Client, worker: Worker, alices: str) -> None:
    request_doc = search(api, correlation_id=alices, event_type="criar_usuario")["eventos"]
    assert len(request_doc) == 1
    user_id = request_doc[0]["user_id"]
    by_user = search(api, user_id=user_id, topic=worker.topic("response_events"))
    assert [d["correlation_id"] for d in by_user["eventos"]] == [alices]
    later = datetime.now(UTC) + timedelta(hours=1)
    assert search(api, correlation_id=alices, desde=later.isoformat())["total"] == 0


def test_other_keys_see_only_their_own_requests(
    worker: Worker, alices: str, bobs: str, old_document: str
) -> None:
    with worker.client("alice") as alice:
        mine = search(alice, limit=100)
        assert mine["escopo"] == "proprios" and mine["total"] >= 2
        assert {d["requested_by"] for d in mine["eventos"]} == {"alice"}
        assert search(alice, correlation_id=bobs)["total"] == 0
        assert search(alice, requested_by="bob")["total"] == 0
        # Indexed before requesters were: admins only, though its trail stays hers.
        assert search(alice, correlation_id=old_document)["total"] == 0
        assert alice.get(f"/logs/{old_document}").status_code == 200
    with worker.client() as admin:
        assert search(admin, correlation_id=old_document)["total"] == 1
        assert search(admin, requested_by="bob", correlation_id=bobs)["total"] == 2


def test_invalid_filters_are_422(api: httpx.Client) -> None:
    answer = api.get("/logs", params={"user_id": "zero", "correlation_id": "x"})
    assert answer.status_code == 422
    assert {c["campo"] for c in answer.json()["campos"]} == {"user_id", "correlation_id"}


def test_the_explorer_needs_a_key(worker: Worker) -> None:
    with worker.client(None) as nobody:
        assert nobody.get("/logs").status_code == 401
    with worker.client("reader") as reader:
        assert search(reader)["escopo"] == "proprios"
