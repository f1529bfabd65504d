"""What users watched: the history, continue watching, and what recommendations are made of.

``visualizacoes`` holds each user's latest state per title (written by the
ledger's ``apply_viewings``), ``co_visualizacoes`` how many users watched both
of two titles.
"""

from __future__ import annotations

from typing import Any

from app.storage.pool import Pooled
from app.viewing.viewing_events import HistoryQuery

_PRUNE_CO_VIEWINGS = "SELECT prune_co_viewings(%s)"
_VIEWING_FIELDS = """json_build_object(
    'conteudo_id', v.conteudo_id, 'titulo', t.titulo, 'tipo', t.tipo,
    'categoria', t.categoria, 'duracao_minutos', t.duracao_minutos,
    'posicao', v.posicao, 'tempo_assistido', v.tempo_assistido, 'concluido', v.concluido,
    'iniciado_em', v.iniciado_em, 'ultimo_acesso', v.ultimo_acesso)"""
# Newest first; the cursor is the (ultimo_acesso, conteudo_id) the last page ended at.
_HISTORY_PAGE = f"""
SELECT {_VIEWING_FIELDS} FROM visualizacoes v JOIN conteudos t USING (conteudo_id)
 WHERE v.user_id = %(user_id)s
   AND (%(tipo)s::text IS NULL OR t.tipo = %(tipo)s)
   AND (%(concluido)s::boolean IS NULL OR v.concluido = %(concluido)s)
   AND (%(after_at)s::timestamptz IS NULL
        OR (v.ultimo_acesso, v.conteudo_id) < (%(after_at)s, %(after_id)s))
 ORDER BY v.ultimo_acesso DESC, v.conteudo_id DESC
 LIMIT %(count)s"""
_CONTINUE_WATCHING = f"""
SELECT {_VIEWING_FIELDS} FROM visualizacoes v JOIN conteudos t USING (conteudo_id)
 WHERE v.user_id = %s AND NOT v.concluido AND v.posicao > 0
 ORDER BY v.ultimo_acesso DESC, v.conteudo_id DESC
 LIMIT %s"""


# Everything a recommendation is computed from, for a batch of users at once.


_TASTES = """
SELECT v.user_id, v.conteudo_id, t.tipo, t.categoria, v.posicao::float8, v.concluido,
       v.tempo_assistido, v.ultimo_acesso
  FROM visualizacoes v JOIN conteudos t USING (conteudo_id)
 WHERE v.user_id = ANY(%s)"""
# Each title's strongest neighbours only: between two prunes a title holds more than it keeps.
_CO_VIEWING = """
SELECT s.conteudo_id, c.vizinho_id, c.vezes
  FROM unnest(%s::integer[]) AS s (conteudo_id)
 CROSS JOIN LATERAL (
       SELECT vizinho_id, vezes FROM co_visualizacoes n
        WHERE n.conteudo_id = s.conteudo_id
        ORDER BY vezes DESC, vizinho_id
        LIMIT %s) AS c
 ORDER BY s.conteudo_id, c.vezes DESC, c.vizinho_id"""
_TITLE_INFOS = """
SELECT conteudo_id, titulo, tipo, categoria, visualizacoes FROM conteudos
 WHERE conteudo_id = ANY(%s)"""


class WatchingQueries(Pooled):
    """Reads of the viewing state, and the bound on the co-viewing table."""

    async def prune_co_viewings(self, keep: int) -> int:
        """Keep each title's ``keep`` strongest co-viewing neighbours; how many pairs went."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_PRUNE_CO_VIEWINGS, (keep,))
            (dropped,) = await cur.fetchone()
        return int(dropped)

    async def viewing_history(
        self, user_id: int, query: HistoryQuery, count: int
    ) -> list[dict[str, Any]]:
        """Up to ``count`` of the user's viewings matching ``query``, newest first."""
        after_at, after_id = query.after or (None, None)
        params = {
            "user_id": user_id,
            "tipo": query.tipo,
            "concluido": query.concluido,
            "after_at": after_at,
            "after_id": after_id,
            "count": count,
        }
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_HISTORY_PAGE, params)
            return [row[0] for row in await cur.fetchall()]

    async def continue_watching(self, user_id: int, count: int) -> list[dict[str, Any]]:
        """Titles the user started and has not finished, most recently watched first."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_CONTINUE_WATCHING, (user_id, count))
            return [row[0] for row in await cur.fetchall()]

    async def tastes(self, user_ids: list[int]) -> list[tuple[Any, ...]]:
        """Every viewing state of these users, with each title's ``tipo`` and ``categoria``:
        ``(user_id, conteudo_id, tipo, categoria, posicao, concluido, tempo_assistido,
        ultimo_acesso)``."""
        return await self._rows(_TASTES, (user_ids,))

    async def co_viewing(self, titles: list[int], per_title: int) -> list[tuple[int, int, int]]:
        """``(title, neighbour, users who watched both)`` of these titles: each title's
        ``per_title`` strongest, strongest first."""
        return await self._rows(_CO_VIEWING, (titles, per_title))

    async def title_infos(self, titles: list[int]) -> list[tuple[int, str, str, str, int]]:
        """``(conteudo_id, titulo, tipo, categoria, distinct viewers)`` of these titles."""
        return await self._rows(_TITLE_INFOS, (titles,))
