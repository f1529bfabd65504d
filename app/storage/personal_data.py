"""A person's own data: their sealing key, the export of what is held, and erasure.

``chaves_titulares`` and ``erase_user`` are migration 0011's; docs/privacy.md
explains the whole mechanism.
"""

from __future__ import annotations

from typing import Any

from app.storage.pool import Pooled

# One round trip: the key this statement inserted, or the one there before (a
# keyed sign-up sent again keeps its first key; see Pooled._claimed).
_KEY_FOR_SIGNUP = """
WITH made AS (
    INSERT INTO chaves_titulares (user_id, chave) VALUES (%(uid)s, %(key)s)
    ON CONFLICT (user_id) DO NOTHING
    RETURNING chave)
SELECT chave FROM made
UNION ALL
SELECT chave FROM chaves_titulares WHERE user_id = %(uid)s"""
_KEYS = "SELECT user_id, chave FROM chaves_titulares WHERE user_id = ANY(%s::bigint[])"
_ERASE_USER = "SELECT erase_user(%s::uuid, %s)"
# Everything PostgreSQL holds about one living user (payments in full, viewings
# with their titles), as one JSON document; NULL when there is no such user.
_EXPORT = """
SELECT json_build_object(
    'perfil', json_build_object('user_id', u.user_id, 'nome', u.nome, 'email', u.email,
                                'cpf', u.cpf, 'data_criacao', u.data_criacao),
    'assinatura', (SELECT json_build_object('plano', a.plano, 'inicio', a.inicio, 'fim', a.fim,
                                            'atualizado_em', a.atualizado_em)
                     FROM assinaturas a WHERE a.user_id = u.user_id),
    'preferencias', (SELECT json_build_object('idioma', p.idioma, 'notificacoes', p.notificacoes,
                                              'atualizado_em', p.atualizado_em)
                       FROM preferencias p WHERE p.user_id = u.user_id),
    'pagamentos', COALESCE((
        SELECT json_agg(json_build_object('valor', g.valor, 'forma_pagamento', g.forma_pagamento,
                                          'status', g.status, 'data_pagamento', g.data_pagamento,
                                          'correlation_id', g.correlation_id)
                        ORDER BY g.data_pagamento)
          FROM pagamentos g WHERE g.user_id = u.user_id), '[]'::json),
    'historico_visualizacao', COALESCE((
        SELECT json_agg(json_build_object('conteudo_id', v.conteudo_id, 'titulo', t.titulo,
                                          'tipo', t.tipo, 'posicao', v.posicao,
                                          'tempo_assistido', v.tempo_assistido,
                                          'concluido', v.concluido,
                                          'iniciado_em', v.iniciado_em,
                                          'ultimo_acesso', v.ultimo_acesso)
                        ORDER BY v.ultimo_acesso)
          FROM visualizacoes v JOIN conteudos t USING (conteudo_id)
         WHERE v.user_id = u.user_id), '[]'::json))
  FROM usuarios u WHERE u.user_id = %s"""


class PersonalDataQueries(Pooled):
    """Keys of people, the export of one person's rows, and their erasure."""

    async def key_for_signup(self, user_id: int, key: bytes) -> bytes:
        """The key of ``user_id``: ``key`` if it is the first one made for them."""
        claimed = await self._claimed(
            _KEY_FOR_SIGNUP, {"uid": user_id, "key": key}, f"key {user_id}"
        )
        return bytes(claimed)

    async def personal_keys(self, user_ids: list[int]) -> dict[int, bytes]:
        """The keys of those of ``user_ids`` that have one (an erased person has none)."""
        if not user_ids:
            return {}
        return {uid: bytes(key) for uid, key in await self._rows(_KEYS, (user_ids,))}

    async def erase_user(self, correlation_id: str, user_id: int) -> dict[str, Any]:
        """Apply erasure request ``correlation_id`` once: ``{outcome, replayed, removed}``."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_ERASE_USER, (correlation_id, user_id))
            (result,) = await cur.fetchone()
        return dict(result)

    async def export_user(self, user_id: int) -> dict[str, Any] | None:
        """Every row held about ``user_id``, as JSON; None if there is no such user."""
        rows = await self._rows(_EXPORT, (user_id,))
        return None if not rows else dict(rows[0][0])
