"""Users and their subscriptions, user id blocks, and the user ids keyed sign-ups claimed."""

from __future__ import annotations

from typing import Any, NamedTuple

from app.accounts.commands import Subscription
from app.storage.pool import Pooled

_NEXT_USER_ID_BLOCK = """
SELECT nextval('user_id_blocks'), increment_by
  FROM pg_sequences WHERE sequencename = 'user_id_blocks'"""
# One round trip: the row this statement inserted, or the one there before. A
# claim committed by a concurrent request after this statement's snapshot is
# seen by neither half (no row): the caller runs the statement again.
_CLAIM_SIGNUP_USER_ID = """
WITH claimed AS (
    INSERT INTO signup_user_ids (correlation_id, user_id) VALUES (%(cid)s, %(uid)s)
    ON CONFLICT (correlation_id) DO NOTHING
    RETURNING user_id)
SELECT user_id FROM claimed
UNION ALL
SELECT user_id FROM signup_user_ids WHERE correlation_id = %(cid)s"""
_USER_WITH_DETAILS = """
SELECT json_build_object(
    'user_id', u.user_id, 'nome', u.nome, 'email', u.email, 'cpf', u.cpf,
    'data_criacao', u.data_criacao, 'criado_por', u.criado_por,
    'assinatura', (SELECT json_build_object('plano', a.plano, 'inicio', a.inicio, 'fim', a.fim)
                     FROM assinaturas a WHERE a.user_id = u.user_id),
    'preferencias', (SELECT json_build_object('idioma', p.idioma, 'notificacoes', p.notificacoes)
                       FROM preferencias p WHERE p.user_id = u.user_id),
    'pagamentos', COALESCE((
        SELECT json_agg(x ORDER BY x.data_pagamento DESC)
          FROM (SELECT valor, forma_pagamento, status, data_pagamento
                  FROM pagamentos WHERE user_id = u.user_id
                 ORDER BY data_pagamento DESC LIMIT %s) x), '[]'::json))
  FROM usuarios u WHERE u.user_id = %s"""
_USER_CREATOR = "SELECT criado_por FROM usuarios WHERE user_id = %s"
# Every user asked for that exists, with its subscription's columns (NULL: none).
_SUBSCRIPTIONS = """
SELECT u.user_id, a.plano, a.inicio, a.fim
  FROM usuarios u LEFT JOIN assinaturas a ON a.user_id = u.user_id
 WHERE u.user_id = ANY(%s::bigint[])"""


_EXISTING_USERS = "SELECT user_id FROM usuarios WHERE user_id = ANY(%s)"


class KnownUser(NamedTuple):
    """A user that exists, and the name of the API key that created it (if known)."""

    user_id: int
    criado_por: str | None


class UserQueries(Pooled):
    """What the API and the agents read of users, and the ids it hands out."""

    async def reserve_user_ids(self) -> range:
        """A block of user ids no other worker, now or later, will hand out."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_NEXT_USER_ID_BLOCK)
            first, size = await cur.fetchone()
        return range(first, first + size)

    async def claim_signup_user_id(self, correlation_id: str, user_id: int) -> int:
        """The user id of sign-up ``correlation_id``: ``user_id`` if it is the first to claim one."""
        params = {"cid": correlation_id, "uid": user_id}
        claimed = await self._claimed(_CLAIM_SIGNUP_USER_ID, params, f"sign-up {correlation_id}")
        return int(claimed)

    async def fetch_user(self, user_id: int, payments: int = 10) -> dict[str, Any] | None:
        """The user with subscription, preferences and latest payments, or None."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_USER_WITH_DETAILS, (payments, user_id))
            row = await cur.fetchone()
        return None if row is None else dict(row[0])

    async def find_user(self, user_id: int) -> KnownUser | None:
        """The user ``user_id`` with its creator, or None if there is no such user."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_USER_CREATOR, (user_id,))
            row = await cur.fetchone()
        return None if row is None else KnownUser(user_id, row[0])

    async def subscriptions(self, user_ids: list[int]) -> dict[int, Subscription | None]:
        """Each existing user of ``user_ids`` with its subscription (None: it has none).

        Users that do not exist are left out. One round trip for the whole list.
        """
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_SUBSCRIPTIONS, (user_ids,))
            rows = await cur.fetchall()
        return {
            uid: None if plano is None else Subscription(plano, inicio, fim)
            for uid, plano, inicio, fim in rows
        }

    async def existing_users(self, user_ids: list[int]) -> set[int]:
        """Which of ``user_ids`` exist."""
        return {row[0] for row in await self._rows(_EXISTING_USERS, (user_ids,))}
