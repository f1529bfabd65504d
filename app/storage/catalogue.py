"""The catalogue (``conteudos``): one title, a page of titles, and seeding it at the first start."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiopg

from app.storage.pool import Pooled
from app.viewing.titles import CatalogueQuery, Title

log = logging.getLogger(__name__)

_CATALOGUE_SIZE = "SELECT count(*) FROM conteudos"
# Fresh statistics, so the first pages are planned for 9,000 rows, not for none.
_ANALYZE_CATALOGUE = "ANALYZE conteudos"
_INSERT_TITLES = """
INSERT INTO conteudos (conteudo_id, titulo, tipo, categoria, generos, descricao,
                       duracao_minutos, ano_lancamento, classificacao, avaliacao,
                       disponivel, temporadas)
VALUES {rows}
ON CONFLICT (conteudo_id) DO NOTHING"""
_TITLE_ROW = "(%s, %s, %s, %s, %s::text[], %s, %s, %s, %s, %s, %s, %s)"
_TITLE_FIELDS = """json_build_object(
    'conteudo_id', conteudo_id, 'titulo', titulo, 'tipo', tipo, 'categoria', categoria,
    'generos', generos, 'descricao', descricao, 'duracao_minutos', duracao_minutos,
    'ano_lancamento', ano_lancamento, 'classificacao', classificacao,
    'avaliacao', avaliacao, 'disponivel', disponivel, 'temporadas', temporadas,
    'visualizacoes', visualizacoes)"""
_TITLE = f"SELECT {_TITLE_FIELDS} FROM conteudos WHERE conteudo_id = %s"
# psycopg2 inlines the values, so the planner sees e.g. 'filme' IS NULL as false
# and uses the (tipo, conteudo_id) index; an absent filter folds to true.
_TITLES_PAGE = f"""
SELECT {_TITLE_FIELDS} FROM conteudos
 WHERE conteudo_id > %(after)s
   AND (%(tipo)s::text IS NULL OR tipo = %(tipo)s)
   AND (%(categoria)s::text IS NULL OR categoria = %(categoria)s)
   AND (%(pattern)s::text IS NULL OR titulo ILIKE %(pattern)s)
 ORDER BY conteudo_id
 LIMIT %(count)s"""


#: Titles inserted per statement while seeding the demo catalogue.
_SEED_CHUNK = 1000


def contains_pattern(text: str) -> str:
    """An ``ILIKE`` pattern matching ``text`` anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _title_row(title: Title) -> tuple[Any, ...]:
    return (
        title.conteudo_id,
        title.titulo,
        title.tipo,
        title.categoria,
        list(title.generos),  # a list becomes an ARRAY; a tuple would become a row
        title.descricao,
        title.duracao_minutos,
        title.ano_lancamento,
        title.classificacao,
        title.avaliacao,
        title.disponivel,
        title.temporadas,
    )


@dataclass(frozen=True, slots=True)
class CatalogueSeed:
    """Titles every database holds from its first start: how many, and the titles themselves.

    ``titles`` is called only when some are missing (drawing them takes a while).
    """

    size: int
    titles: Callable[[], Sequence[Title]]


async def seed_catalogue(cur: aiopg.Cursor, seed: CatalogueSeed) -> None:
    """Insert the seed's titles missing from ``conteudos`` (never overwriting one).

    Runs under the migration lock (:class:`app.storage.database.Database`), so
    one worker seeds while the others wait and then find the table full; a seed
    cut short is completed by the next start, as existing ids are skipped.
    """
    await cur.execute(_CATALOGUE_SIZE)
    (size,) = await cur.fetchone()
    if size >= seed.size:
        return
    titles = seed.titles()
    log.info("seeding the catalogue: %d titles", len(titles))
    for start in range(0, len(titles), _SEED_CHUNK):
        chunk = titles[start : start + _SEED_CHUNK]
        rows = ",".join(cur.mogrify(_TITLE_ROW, _title_row(t)).decode() for t in chunk)
        await cur.execute(_INSERT_TITLES.format(rows=rows))
    await cur.execute(_ANALYZE_CATALOGUE)


class CatalogueQueries(Pooled):
    """Reading the catalogue's titles."""

    async def fetch_title(self, conteudo_id: int) -> dict[str, Any] | None:
        """The catalogue's title ``conteudo_id`` with every field, or None."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_TITLE, (conteudo_id,))
            row = await cur.fetchone()
        return None if row is None else dict(row[0])

    async def list_titles(self, query: CatalogueQuery, count: int) -> list[dict[str, Any]]:
        """Up to ``count`` titles matching ``query``'s filters after its cursor, by id."""
        params = {
            "after": query.after_id,
            "tipo": query.tipo,
            "categoria": query.categoria,
            "pattern": None if query.q is None else contains_pattern(query.q),
            "count": count,
        }
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_TITLES_PAGE, params)
            return [dict(row[0]) for row in await cur.fetchall()]
