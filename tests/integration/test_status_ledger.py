"""GET /status answers from PostgreSQL when a worker's copy of the status table lacks it."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from app.requests.envelope import CorrelationIds
from app.settings import get_settings
from harness.services import pg_rows
from harness.workers import ADMIN, wait_for_final_status
from tests.support.flow import create_user

pytestmark = pytest.mark.integration


def status_once_routable(api: httpx.Client, correlation_id: str) -> httpx.Response:
    """``GET /status``, retried while the worker does not know the id's owner yet (503)."""
    deadline = time.monotonic() + 30
    while (answer := api.get(f"/status/{correlation_id}")).status_code == 503:
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.2)
    return answer


def test_an_applied_event_whose_outcome_the_table_missed_reads_as_its_ledger_outcome(
    api: httpx.Client,
) -> None:
    # Derived from an Idempotency-Key: no issue time in the id, so its age comes
    # from the ledger row alone (a fresh UUIDv7 is known too young to ask).
    ids = CorrelationIds(get_settings().correlation_secret)
    correlation_id = ids.derive(ADMIN, f"ledger-test-{time.time_ns()}")
    pg_rows(
        "INSERT INTO processed_events (correlation_id, event_type, user_id, outcome, processed_at)"
        " VALUES (%s, 'pagamento_realizado', 42, 'applied', now() - interval '1 minute')",
        [correlation_id],
    )

    answer = status_once_routable(api, correlation_id)

    assert answer.status_code == 200, answer.text
    assert answer.json() | {"requested_at": None, "processed_at": None} == {
        "correlation_id": correlation_id,
        "status": "success",
        "message": "Pagamento registrado com sucesso",
        "original_event_type": "pagamento_realizado",
        "user_id": 42,
        "requested_at": None,
        "processed_at": None,
        "requested_by": ADMIN,
        "replays": 0,
    }


def test_a_status_postgresql_holds_is_answered_when_the_table_lacks_it(
    api: httpx.Client,
) -> None:
    ids = CorrelationIds(get_settings().correlation_secret)
    correlation_id = ids.derive(ADMIN, f"outcome-test-{time.time_ns()}")
    record = {
        "correlation_id": correlation_id,
        "status": "error",
        "message": "Limite de telas do plano atingido",
        "original_event_type": "sessao_iniciada",
        "user_id": 7,
        "requested_at": None,
        "processed_at": "2026-12-05T12:00:00Z",
        "requested_by": ADMIN,
        "replays": 0,
    }
    pg_rows(
        "INSERT INTO request_outcomes (correlation_id, record) VALUES (%s, %s::jsonb)",
        [correlation_id, json.dumps(record)],
    )

    answer = status_once_routable(api, correlation_id)

    assert answer.status_code == 200, answer.text
    assert answer.json() == record


def test_the_status_agent_keeps_every_final_status_in_postgresql_too(
    api: httpx.Client,
) -> None:
    user_id = create_user(api)
    answer = api.post("/sessoes", json={"user_id": user_id})  # no plan: refused, an outcome
    assert answer.status_code == 202, answer.text
    correlation_id = answer.json()["correlation_id"]
    final = wait_for_final_status(api, correlation_id)

    rows = pg_rows(
        "SELECT record FROM request_outcomes WHERE correlation_id = %s", [correlation_id]
    )

    assert [row[0] for row in rows] == [final]
