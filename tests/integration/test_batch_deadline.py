"""A batch that misses its deadline is handled in halves, and every event still applies once.

The worker runs with a one-second batch deadline (``BATCH_DEADLINE_S``) on topics
and a group of its own. The test holds a row lock in PostgreSQL that every
event of a backlog needs, so the processing agent's first batch cannot finish
in time: the guard cancels it and tries its halves, then theirs. Once the
worker has said so, the lock goes, and each event must end in one effect
(a ledger row saying it applied) and a final status, though attempts were
cancelled mid-way, and the halves must apply in order: the preferences left
are the last event's.
"""

from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path

import psycopg2
import pytest

from app.accounts.commands import Preferences, PreferencesUpdated
from app.kafka.topics import user_key
from app.requests.envelope import CorrelationIds, encode_event
from app.settings import get_settings
from harness.broker import produce, run
from harness.services import pg_rows
from harness.workers import ADMIN, Worker, own_names, wait_for_final_status
from tests.support.flow import create_user, settle

pytestmark = pytest.mark.integration

BACKLOG = 40
HALVED = f"handling {BACKLOG} events in halves"
LANGUAGES = ("pt-BR", "en-US", "es-ES")


def preference_events(user_id: int, count: int) -> list[PreferencesUpdated]:
    ids = CorrelationIds(get_settings().correlation_secret)
    return [
        PreferencesUpdated(
            correlation_id=ids.issue(ADMIN),
            user_id=user_id,
            preferencias=Preferences(idioma=LANGUAGES[n % 3], notificacoes=n % 2 == 0),
        )
        for n in range(count)
    ]


def wait_for_line(log_path: Path, text: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while text not in log_path.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"{text!r} never logged; see {log_path}"
        time.sleep(0.2)


def test_a_batch_stuck_past_its_deadline_is_handled_in_halves_and_applies_each_event_once(
    tmp_path: Path,
) -> None:
    worker = Worker(tmp_path / "w", BATCH_DEADLINE_S="1", **own_names(f"dl{uuid.uuid4().hex[:8]}"))
    worker.start()
    lock = psycopg2.connect(get_settings().postgres_dsn)
    try:
        with worker.client() as api:
            user_id = create_user(api)
            settle(api, user_id)  # the user's preferences row exists: the lock has a row
        worker.stop(signal.SIGTERM)

        # Every event of the backlog updates this row, so none can commit while it is held.
        lock.cursor().execute("SELECT 1 FROM preferencias WHERE user_id = %s FOR UPDATE", [user_id])
        events = preference_events(user_id, BACKLOG)
        key = user_key(user_id)
        # Produced while the worker is stopped: its first batch holds the whole backlog.
        run(produce(worker.topic("user_events"), [(key, encode_event(e)) for e in events]))
        worker.start()
        wait_for_line(worker.log_path, HALVED)
        lock.rollback()

        with worker.client() as api:
            finals = [wait_for_final_status(api, e.correlation_id, 60) for e in events]
        assert {final["status"] for final in finals} == {"success"}
        ledger = pg_rows(
            "SELECT outcome, count(*) FROM processed_events"
            " WHERE correlation_id::text = ANY(%s) GROUP BY 1",
            [[e.correlation_id for e in events]],
        )
        assert ledger == [("applied", BACKLOG)]
        left = pg_rows(
            "SELECT idioma, notificacoes FROM preferencias WHERE user_id = %s", [user_id]
        )
        last = events[-1].preferencias
        assert left == [(last.idioma, last.notificacoes)]
    finally:
        lock.close()
        worker.stop()
