"""Final statuses expire from the status table, with a changelog tombstone; reads then use PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from unittest.mock import patch

import orjson
import pytest

from app.clock import iso_utc, utc_now
from app.settings import get_settings
from harness.broker import produce, read_records
from harness.services import pg_rows
from harness.workers import ADMIN, Worker, correlation_ids, own_names
from tests.support.flow import status_once_routable

pytestmark = pytest.mark.integration

RETENTION_HOURS = 1.0
NAME = "status-expiry"


def outcome(correlation_id: str, produced_hours_ago: float) -> bytes:
    """A ``response_events`` value answering ``correlation_id``, produced that long ago."""
    produced = utc_now() - timedelta(hours=produced_hours_ago)
    return orjson.dumps(
        {
            "event_type": "response",
            "correlation_id": correlation_id,
            "original_event_type": "atualizar_config",
            "timestamp": iso_utc(produced),
            "request_timestamp": iso_utc(produced),
            "status": "success",
            "message": "Configurações atualizadas com sucesso",
            "user_id": 7,
            "requested_by": ADMIN,
        }
    )


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A worker whose final statuses expire after an hour, swept every second."""
    started = Worker(
        tmp_path_factory.mktemp("status-expiry"),
        **own_names(NAME),
        STATUS_RETENTION_HOURS=str(RETENTION_HOURS),
        RETENTION_INTERVAL_S="1",
    ).start()
    started.wait_ready()
    yield started
    started.stop()


async def test_an_old_final_status_leaves_the_table_with_a_tombstone_and_is_read_from_postgresql(
    worker: Worker,
) -> None:
    old, fresh = correlation_ids.issue(ADMIN), correlation_ids.issue(ADMIN)
    await produce(
        worker.topic("response_events"),
        [(old.encode(), outcome(old, 2 * RETENTION_HOURS)), (fresh.encode(), outcome(fresh, 0))],
    )
    changelog = f"{own_names(NAME)['APP_ID']}-correlation_status-changelog"

    entries = await _changelog_until_tombstone(changelog, old.encode())

    assert [value is None for key, value in entries if key == old.encode()] == [False, True]
    assert [value is None for key, value in entries if key == fresh.encode()] == [False]
    with worker.client() as api:
        expired, kept = api.get(f"/status/{old}"), api.get(f"/status/{fresh}")
    (recorded,) = pg_rows("SELECT record FROM request_outcomes WHERE correlation_id = %s", [old])
    assert expired.status_code == 200, expired.text
    assert expired.json() == recorded[0]
    assert expired.json()["status"] == "success"
    assert kept.status_code == 200, kept.text
    assert kept.json()["correlation_id"] == fresh


def test_an_id_older_than_kafka_keeps_events_with_no_status_anywhere_is_a_404_saying_so(
    worker: Worker,
) -> None:
    lifetime = get_settings().event_lifetime_s
    with patch("time.time_ns", return_value=time.time_ns() - int((lifetime + 3600) * 1e9)):
        ancient = correlation_ids.issue(ADMIN)
    recent = correlation_ids.issue(ADMIN)

    with worker.client() as api:
        expired, pending = status_once_routable(api, ancient), status_once_routable(api, recent)

    assert expired.status_code == 404, expired.text
    assert expired.json()["error"].startswith("Status expirado")
    assert pending.status_code == 200, pending.text
    assert pending.json()["status"] == "pendente"


def test_a_keyed_id_with_no_status_is_pending_while_its_acceptance_is_young_then_a_404(
    worker: Worker,
) -> None:
    # Ids derived from an Idempotency-Key carry no time: keyed_requests dates them.
    young, old, forgotten = (
        correlation_ids.derive(ADMIN, f"{NAME}-{age}-{time.time_ns()}")
        for age in ("young", "old", "forgotten")
    )
    lifetime = get_settings().event_lifetime_s
    pg_rows(
        "INSERT INTO keyed_requests (correlation_id, accepted_at) VALUES"
        " (%s, now()), (%s, now() - make_interval(secs => %s))",
        [young, old, lifetime + 3600],
    )

    with worker.client() as api:
        answers = [status_once_routable(api, cid) for cid in (young, old, forgotten)]

    assert [a.status_code for a in answers] == [200, 404, 404], [a.text for a in answers]
    assert answers[0].json()["status"] == "pendente"
    assert all(a.json()["error"].startswith("Status expirado") for a in answers[1:])


async def _changelog_until_tombstone(
    changelog: str, key: bytes, timeout_s: float = 60.0
) -> list[tuple[bytes | None, bytes | None]]:
    """The changelog's records once it holds a tombstone for ``key``."""
    deadline = time.monotonic() + timeout_s
    while True:
        entries = await read_records(changelog)
        if (key, None) in entries or time.monotonic() > deadline:
            return entries
        await asyncio.sleep(0.5)
