"""What the recommendations read of ``co_visualizacoes``: each title's strongest neighbours only.

Between two prunes a title holds more neighbours than it keeps; a list is made
from the ones a prune would keep, so its cost per seed stays bounded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.storage.database import Database
from harness.services import migrated_database

pytestmark = pytest.mark.integration


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    async with migrated_database("co_viewing_reads") as database:
        yield database


async def catalogue_titles(db: Database, count: int) -> list[int]:
    async with db.pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(
            "SELECT conteudo_id FROM conteudos ORDER BY conteudo_id LIMIT %s", (count,)
        )
        return [row[0] for row in await cur.fetchall()]


async def co_viewed(db: Database, pairs: list[tuple[int, int, int]]) -> None:
    async with db.pool.acquire() as conn, conn.cursor() as cur:
        for title, neighbour, times in pairs:
            await cur.execute(
                "INSERT INTO co_visualizacoes (conteudo_id, vizinho_id, vezes) VALUES (%s, %s, %s)",
                (title, neighbour, times),
            )


async def test_each_title_gives_only_its_strongest_neighbours_strongest_first(
    db: Database,
) -> None:
    first, second, *others = await catalogue_titles(db, 12)
    # ``first`` has 10 neighbours of strengths 1..10; ``second`` only 2.
    await co_viewed(db, [(first, other, times) for times, other in enumerate(others, start=1)])
    await co_viewed(db, [(second, others[0], 7), (second, others[1], 7)])

    rows = await db.co_viewing([first, second], 4)

    assert [row for row in rows if row[0] == first] == [
        (first, others[9], 10),
        (first, others[8], 9),
        (first, others[7], 8),
        (first, others[6], 7),
    ]
    # Equal strengths: the lower id first, as a prune keeps them.
    assert [row for row in rows if row[0] == second] == [
        (second, others[0], 7),
        (second, others[1], 7),
    ]


async def test_a_title_without_neighbours_gives_none(db: Database) -> None:
    (title,) = await catalogue_titles(db, 1)
    assert await db.co_viewing([title], 50) == []
