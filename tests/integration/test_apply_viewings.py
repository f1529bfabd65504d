"""``apply_viewings``: what a redelivered heartbeat makes the viewing agent send again.

The agent derives trending's ``title_activity`` and the recommendations' refresh
from the changes the function reports; a change marked ``reenvio`` is sent again
even when it moves nothing, because the first sending may have been cut by a crash.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.storage.database import Database
from harness.services import migrated_database

pytestmark = pytest.mark.integration

USER_ID = 4_200_001
_START = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    async with migrated_database("apply_viewings") as database:
        async with database.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(
                "INSERT INTO usuarios (user_id, nome, email, cpf) VALUES (%s, %s, %s, %s)",
                (USER_ID, "Ana", "ana@example.com", "52998224725"),
            )
        yield database


async def a_title(db: Database) -> int:
    async with db.pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT min(conteudo_id) FROM conteudos")
        (title,) = await cur.fetchone()
    return int(title)


def heartbeat(title: int, seconds_in: int) -> dict[str, Any]:
    """A heartbeat ``seconds_in`` seconds after the start (the same trending hop for < 5 min)."""
    return {
        "correlation_id": str(uuid.uuid4()),
        "user_id": USER_ID,
        "conteudo_id": title,
        "posicao": 10,
        "tempo_assistido": seconds_in,
        "timestamp": (_START + timedelta(seconds=seconds_in)).isoformat(),
    }


async def test_a_replayed_heartbeat_batched_with_a_newer_one_marks_its_pair_for_resending(
    db: Database,
) -> None:
    title = await a_title(db)
    first, newer = heartbeat(title, 30), heartbeat(title, 60)
    await db.apply_viewings([first])  # applied, then the worker died before sending on
    again = await db.apply_viewings([first, newer])
    assert [(o.outcome, o.replayed) for o in again.outcomes] == [
        ("applied", True),
        ("applied", False),
    ]
    (change,) = again.changes
    assert change["anterior"] is not None  # a known viewer, in the same hop: nothing moved ...
    assert change["reenvio"] is True  # ... but what the first batch derived is sent again


async def test_a_newer_heartbeat_alone_is_not_marked_for_resending(db: Database) -> None:
    title = await a_title(db)
    await db.apply_viewings([heartbeat(title, 30)])
    (change,) = (await db.apply_viewings([heartbeat(title, 60)])).changes
    assert (change["reenvio"], change["anterior"] is not None) == (False, True)


async def test_a_batch_of_replays_only_marks_its_pair_for_resending(db: Database) -> None:
    title = await a_title(db)
    first = heartbeat(title, 30)
    await db.apply_viewings([first])
    (change,) = (await db.apply_viewings([first])).changes
    assert change["reenvio"] is True
