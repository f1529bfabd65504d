"""The ledger and the sign-up claims keep what Kafka could deliver again, and lose the rest.

Against a PostgreSQL database of the test's own, migrated from nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg2
import pytest

from app.storage.database import Database
from app.storage.ledger_pruning import PRUNE_LOCK_KEY

pytestmark = pytest.mark.integration

DAY_S = 86400.0
RETENTION_S = 9 * DAY_S


async def _run(database: Database, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    async with database.pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(sql, params)
        return list(await cur.fetchall()) if cur.description else []


async def _ledger_rows(database: Database, age_days: float, count: int) -> set[str]:
    ids = {str(uuid.uuid4()) for _ in range(count)}
    await _run(
        database,
        "INSERT INTO processed_events (correlation_id, event_type, user_id, outcome, processed_at)"
        " SELECT id::uuid, 'registrar_visualizacao', 7, 'applied',"
        "        now() - make_interval(secs => %s) FROM unnest(%s::text[]) AS id",
        (age_days * DAY_S, list(ids)),
    )
    return ids


async def _claims(database: Database, age_days: float, first_user: int, count: int) -> set[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    await _run(
        database,
        "INSERT INTO signup_user_ids (correlation_id, user_id, claimed_at)"
        " SELECT id::uuid, %s + n, now() - make_interval(secs => %s)"
        "   FROM unnest(%s::text[]) WITH ORDINALITY AS t (id, n)",
        (first_user, age_days * DAY_S, ids),
    )
    return set(ids)


async def _replays(database: Database, age_days_by_offset: dict[int, float]) -> None:
    for offset, age_days in age_days_by_offset.items():
        await _run(
            database,
            'INSERT INTO dead_letter_replays (topic, partition, "offset", written_at, replays,'
            " resent_topic, replayed_at) VALUES ('dead_letters', 0, %s, now(), 1, 'user_events',"
            " now() - make_interval(secs => %s))",
            (offset, age_days * DAY_S),
        )


async def _outcomes(database: Database, age_days: float, count: int) -> set[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    await _run(
        database,
        "INSERT INTO request_outcomes (correlation_id, record, recorded_at)"
        " SELECT id::uuid, '{}'::jsonb, now() - make_interval(secs => %s)"
        "   FROM unnest(%s::text[]) AS id",
        (age_days * DAY_S, ids),
    )
    return set(ids)


async def _keyed_requests(database: Database, age_days: float, count: int) -> set[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    await _run(
        database,
        "INSERT INTO keyed_requests (correlation_id, accepted_at)"
        " SELECT id::uuid, now() - make_interval(secs => %s) FROM unnest(%s::text[]) AS id",
        (age_days * DAY_S, ids),
    )
    return set(ids)


async def _ids(database: Database, table: str) -> set[str]:
    return {row[0] for row in await _run(database, f"SELECT correlation_id::text FROM {table}")}


async def test_rows_past_the_retention_go_in_batches_and_current_ones_stay(
    empty_database: Database,
) -> None:
    await _ledger_rows(empty_database, age_days=10, count=12)
    await _ledger_rows(empty_database, age_days=9.01, count=1)  # just past the retention
    current = await _ledger_rows(empty_database, age_days=8.99, count=2)
    current |= await _ledger_rows(empty_database, age_days=0, count=1)
    await _claims(empty_database, age_days=10, first_user=1000, count=4)
    current_claims = await _claims(empty_database, age_days=1, first_user=2000, count=2)

    await _replays(empty_database, {1: 10, 2: 30, 3: 1})
    await _outcomes(empty_database, age_days=12, count=3)
    current_outcomes = await _outcomes(empty_database, age_days=2, count=1)
    await _keyed_requests(empty_database, age_days=9.5, count=2)
    current_keyed = await _keyed_requests(empty_database, age_days=0, count=1)

    deleted = await empty_database.prune_expired(RETENTION_S, batch=5)

    assert deleted == {  # 5 + 5 + 3: in batches
        "processed_events": 13,
        "signup_user_ids": 4,
        "dead_letter_replays": 2,
        "request_outcomes": 3,
        "keyed_requests": 2,
    }
    assert await _ids(empty_database, "processed_events") == current
    assert await _ids(empty_database, "request_outcomes") == current_outcomes
    assert await _ids(empty_database, "keyed_requests") == current_keyed
    assert await _ids(empty_database, "signup_user_ids") == current_claims
    assert await _run(empty_database, 'SELECT "offset" FROM dead_letter_replays') == [(3,)]
    indexes = await _run(
        empty_database,
        "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE c.relname IN ('processed_events_processed_at', 'signup_user_ids_claimed_at',"
        "                     'dead_letter_replays_replayed_at', 'request_outcomes_recorded_at',"
        "                     'keyed_requests_accepted_at')",
    )
    assert sorted(indexes) == [
        ("dead_letter_replays_replayed_at", True),
        ("keyed_requests_accepted_at", True),
        ("processed_events_processed_at", True),
        ("request_outcomes_recorded_at", True),
        ("signup_user_ids_claimed_at", True),
    ]


async def test_an_event_delivered_again_within_the_retention_is_still_a_replay(
    empty_database: Database,
) -> None:
    event = {
        "event_type": "atualizar_config",
        "correlation_id": str(uuid.uuid4()),
        "user_id": 42,
        "preferencias": {"idioma": "pt-BR", "notificacoes": True},
    }
    first = await empty_database.apply_events([event])
    await _ledger_rows(empty_database, age_days=30, count=3)

    assert await empty_database.prune_expired(RETENTION_S, batch=100) == {
        "processed_events": 3,
        "signup_user_ids": 0,
        "dead_letter_replays": 0,
        "request_outcomes": 0,
        "keyed_requests": 0,
    }
    again = await empty_database.apply_events([event])
    assert [(o.outcome, o.replayed) for o in first + again] == [
        ("user_not_found", False),
        ("user_not_found", True),
    ]


async def test_one_worker_prunes_at_a_time(empty_database: Database) -> None:
    await _ledger_rows(empty_database, age_days=30, count=3)
    other = psycopg2.connect(empty_database._dsn)  # another worker, pruning now
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (PRUNE_LOCK_KEY,))
            assert await empty_database.prune_expired(RETENTION_S, batch=100) is None
            assert len(await _ids(empty_database, "processed_events")) == 3
            cur.execute("SELECT pg_advisory_unlock(%s)", (PRUNE_LOCK_KEY,))
    finally:
        other.close()
    assert await empty_database.prune_expired(RETENTION_S, batch=100) == {
        "processed_events": 3,
        "signup_user_ids": 0,
        "dead_letter_replays": 0,
        "request_outcomes": 0,
        "keyed_requests": 0,
    }
