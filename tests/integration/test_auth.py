"""Only the right callers in: keys, scopes, object-level checks, rate limits, no leaks."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from elasticsearch import Elasticsearch

from app.eventlog.indices import SYSTEM_LOGS
from app.settings import get_settings
from harness.workers import TEST_CALLERS, Worker, outcome_of, wait_for_final_status

pytestmark = pytest.mark.integration

PROTECTED = [
    ("POST", "/usuarios"),
    ("POST", "/usuarios/1/assinatura"),
    ("POST", "/usuarios/1/pagamento"),
    ("POST", "/usuarios/1/config"),
    ("GET", "/usuarios/1"),
    ("GET", "/status/01a222cc-d2dd-7673-9115-162d98e7896f"),
    ("GET", "/logs/01a222cc-d2dd-7673-9115-162d98e7896f"),
    ("GET", "/metrics"),
    ("GET", "/api/metrics/summary"),
]


def status_code(client: httpx.Client, path: str) -> int:
    """The status of GET ``path``, waiting out 503s while the worker settles."""
    deadline = time.monotonic() + 30
    while (answer := client.get(path)).status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.2)
    return answer.status_code


@pytest.fixture
def anonymous(worker: Worker) -> Iterator[httpx.Client]:
    with worker.client(caller=None) as client:
        yield client


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_protected_routes_refuse_missing_and_wrong_keys(
    anonymous: httpx.Client, method: str, path: str
) -> None:
    missing = anonymous.request(method, path)
    wrong = anonymous.request(method, path, headers={"X-API-Key": "not-a-key"})
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.json()["error"]
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["/", "/health", "/openapi.json", "/docs"])
def test_banner_health_and_docs_stay_public(anonymous: httpx.Client, path: str) -> None:
    assert anonymous.get(path).status_code == 200


def test_a_key_without_the_scope_is_forbidden(worker: Worker) -> None:
    with worker.client("reader") as reader, worker.client("alice") as alice:
        assert reader.post("/usuarios").status_code == 403
        assert alice.get("/api/metrics/summary").status_code == 403
        assert reader.get("/usuarios/987654321987").status_code == 404  # allowed, unknown


def test_bearer_authorization_works_like_the_header(anonymous: httpx.Client) -> None:
    secret = TEST_CALLERS["alice"][0]
    answer = anonymous.post("/usuarios", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 202


def test_one_caller_cannot_read_anothers_status(worker: Worker) -> None:
    with worker.client("alice") as alice, worker.client("bob") as bob, worker.client() as admin:
        correlation_id = alice.post("/usuarios").json()["correlation_id"]
        assert status_code(bob, f"/status/{correlation_id}") == 404  # even while pendente
        final = wait_for_final_status(alice, correlation_id)
        assert final["requested_by"] == "alice"
        assert status_code(bob, f"/status/{correlation_id}") == 404
        read_by_admin = wait_for_final_status(admin, correlation_id)
        assert outcome_of(read_by_admin) == outcome_of(final)
        assert read_by_admin["requested_by"] == "alice"


def test_one_caller_cannot_read_anothers_user(worker: Worker) -> None:
    with worker.client("alice") as alice, worker.client("bob") as bob, worker.client() as admin:
        answer = alice.post("/usuarios").json()
        wait_for_final_status(alice, answer["correlation_id"])
        path = f"/usuarios/{answer['usuario']['user_id']}"
        assert alice.get(path).json()["cpf"] == answer["usuario"]["cpf"]
        assert bob.get(path).status_code == 404
        assert admin.get(path).status_code == 200


def test_one_caller_cannot_read_anothers_trail(worker: Worker) -> None:
    with worker.client("alice") as alice, worker.client("bob") as bob:
        correlation_id = alice.post("/usuarios").json()["correlation_id"]
        wait_for_final_status(alice, correlation_id)
        deadline = time.monotonic() + 30
        while alice.get(f"/logs/{correlation_id}").status_code != 200:
            assert time.monotonic() < deadline, "trail never appeared"
            time.sleep(0.3)
        assert bob.get(f"/logs/{correlation_id}").status_code == 404


def test_rate_limit_answers_429_with_retry_after_then_recovers(worker: Worker) -> None:
    with worker.client("slow") as slow:
        answers = [slow.get("/usuarios/1") for _ in range(12)]
        refused = [a for a in answers if a.status_code == 429]
        assert refused, [a.status_code for a in answers]
        wait = int(refused[0].headers["Retry-After"])
        assert wait >= 1
        time.sleep(wait)
        assert slow.get("/usuarios/1").status_code == 404


def test_no_key_material_in_worker_logs_or_elasticsearch(worker: Worker) -> None:
    with worker.client("alice") as alice:
        correlation_id = alice.post("/usuarios").json()["correlation_id"]
        wait_for_final_status(alice, correlation_id)
    secrets = [secret for secret, _, _ in TEST_CALLERS.values()]
    log_text = worker.log_path.read_text(errors="replace")
    assert not [s for s in secrets if s in log_text]
    es = Elasticsearch(get_settings().elasticsearch_host)
    es.indices.refresh(index=SYSTEM_LOGS)
    for secret in secrets:
        hits = es.search(index=SYSTEM_LOGS, query={"query_string": {"query": f'"{secret}"'}})
        assert hits["hits"]["total"]["value"] == 0
