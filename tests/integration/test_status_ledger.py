"""GET /status falls back to the ledger when the status table lacks an outcome long applied."""

from __future__ import annotations

import time

import httpx
import pytest

from app.correlation import CorrelationIds
from app.settings import get_settings
from tests.support.services import pg_rows
from tests.support.workers import ADMIN

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
