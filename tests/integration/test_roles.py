"""A split deployment: API, processing and logging workers, each a process of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from elasticsearch import Elasticsearch

from app.eventlog.indices import SYSTEM_LOGS
from harness.services import pg_rows
from harness.workers import Worker, own_names, wait_for_final_status
from tests.integration.test_event_log import wait_until
from tests.support.flow import create_user

pytestmark = pytest.mark.integration

ROLES = ("api", "processing", "logging")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Worker]]:
    """One worker per role, on topics and consumer groups of their own."""
    base = tmp_path_factory.mktemp("roles")
    workers = {
        role: Worker(
            Path(base) / role, WORKER_ROLE=role, LOG_BATCH_WAIT_S="0.2", **own_names("roles")
        )
        for role in ROLES
    }
    try:
        for worker in workers.values():
            worker.start()
        yield workers
    finally:
        for worker in workers.values():
            worker.stop()


@pytest.fixture
def api(deployment: dict[str, Worker]) -> Iterator[httpx.Client]:
    with deployment["api"].client() as client:
        yield client


def test_each_role_reports_itself_healthy_in_a_group_of_its_own(
    deployment: dict[str, Worker],
) -> None:
    for role, worker in deployment.items():
        with worker.client() as client:
            health = client.get("/health")
        assert health.status_code == 200, health.text
        assert health.json()["dependencies"]["worker"]["role"] == role


def test_only_the_api_role_serves_the_users_endpoints(deployment: dict[str, Worker]) -> None:
    for role in ("processing", "logging"):
        with deployment[role].client() as client:
            assert client.post("/usuarios").status_code == 404


def test_a_request_goes_from_http_through_postgres_to_elasticsearch(
    api: httpx.Client, es: Elasticsearch
) -> None:
    user_id = create_user(api)
    payment = api.post(f"/usuarios/{user_id}/pagamento")
    assert payment.status_code == 202, payment.text
    correlation_id = payment.json()["correlation_id"]

    assert wait_for_final_status(api, correlation_id)["status"] == "success"
    assert pg_rows("SELECT count(*) FROM pagamentos WHERE user_id = %s", (user_id,)) == [(1,)]

    def logged_both_ways() -> bool:
        es.indices.refresh(index=SYSTEM_LOGS)
        found = es.search(index=SYSTEM_LOGS, query={"term": {"correlation_id": correlation_id}})
        kinds = sorted(hit["_source"]["event_type"] for hit in found["hits"]["hits"])
        return kinds == ["pagamento_realizado", "response"]

    wait_until(logged_both_ways, timeout=60, what="the payment and its outcome logged")
