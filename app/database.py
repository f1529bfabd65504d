"""PostgreSQL: the connection pool, the schema migrations and every SQL statement.

No other module writes SQL. The service connects in the background with backoff,
so the worker (and ``GET /health``) come up even while PostgreSQL is down;
callers that need the database await :meth:`Database.wait_ready`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import aiopg
import orjson
import psycopg2
from mode import Service

from app.catalogue import DEMO_IDS, Title, demo_catalogue
from app.models import CatalogueQuery, HistoryQuery
from app.retry import retrying

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
#: Any constant shared by all workers: serialises concurrent migrations.
_MIGRATION_LOCK_KEY = 4_711_2025

#: Errors after which the same statement may succeed later (server restarting,
#: connection dropped, lock conflict): the caller waits and retries.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
    psycopg2.extensions.TransactionRollbackError,
    TimeoutError,
    OSError,
)

_CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    TEXT PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)"""
_APPLIED_MIGRATIONS = "SELECT version FROM schema_migrations"
_RECORD_MIGRATION = "INSERT INTO schema_migrations (version) VALUES (%s)"
# correlation_id as text: psycopg2's UUID adapter would only be undone by str().
_APPLY_EVENTS = "SELECT correlation_id::text, outcome, replayed FROM apply_events(%s::jsonb)"
_CHECKPOINTS = """
SELECT partition, next_offset FROM agent_checkpoints
 WHERE group_id = %s AND agent = %s AND topic = %s AND partition = ANY(%s)"""
_SAVE_CHECKPOINTS = """
INSERT INTO agent_checkpoints (group_id, agent, topic, partition, next_offset)
SELECT %s, %s, %s, p, o FROM unnest(%s::int[], %s::bigint[]) AS t (p, o)
ON CONFLICT (group_id, agent, topic, partition) DO UPDATE
   SET next_offset = GREATEST(agent_checkpoints.next_offset, EXCLUDED.next_offset)"""
_SEED_CHECKPOINTS = """
INSERT INTO agent_checkpoints (group_id, agent, topic, partition, next_offset)
SELECT %s, %s, %s, p, o FROM unnest(%s::int[], %s::bigint[]) AS t (p, o)
ON CONFLICT (group_id, agent, topic, partition) DO NOTHING"""
# An event applied at least some seconds ago: what the ledger says its outcome was.
# The status the status agent recorded, else what the ledger of applied events says.
_RECORDED_OUTCOME = """
SELECT record, NULL, NULL, NULL, NULL, 0 AS rank FROM request_outcomes
 WHERE correlation_id = %(cid)s::uuid
UNION ALL
SELECT NULL, event_type, user_id, outcome, processed_at, 1 FROM processed_events
 WHERE correlation_id = %(cid)s::uuid AND processed_at < now() - make_interval(secs => %(grace)s)
ORDER BY rank LIMIT 1"""
# A replayed dead letter's later outcome replaces the status of the earlier attempt.
_RECORD_OUTCOMES = """
INSERT INTO request_outcomes (correlation_id, record, replays) VALUES {rows}
ON CONFLICT (correlation_id) DO UPDATE
   SET record = EXCLUDED.record, replays = EXCLUDED.replays, recorded_at = now()
 WHERE EXCLUDED.replays > request_outcomes.replays"""
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
#: Runs of the claim at most: a concurrent claim is committed by the second.
_CLAIM_ATTEMPTS = 3
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
_APPLY_VIEWINGS = "SELECT apply_viewings(%s::jsonb)"
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
_EXISTING_USERS = "SELECT user_id FROM usuarios WHERE user_id = ANY(%s)"
_TASTES = """
SELECT v.user_id, v.conteudo_id, t.tipo, t.categoria, v.posicao::float8, v.concluido,
       v.tempo_assistido, v.ultimo_acesso
  FROM visualizacoes v JOIN conteudos t USING (conteudo_id)
 WHERE v.user_id = ANY(%s)"""
_CO_VIEWING = """
SELECT conteudo_id, vizinho_id, vezes FROM co_visualizacoes
 WHERE conteudo_id = ANY(%s) ORDER BY conteudo_id, vezes DESC, vizinho_id"""
_TITLE_INFOS = """
SELECT conteudo_id, titulo, tipo, categoria, visualizacoes FROM conteudos
 WHERE conteudo_id = ANY(%s)"""
# Dead letters re-sent (migration 0009): claimed in the transaction that re-sends them.
_REPLAYED_DEAD_LETTERS = """
SELECT partition, "offset", written_at, replays, resent_topic, resent_partition,
       resent_offset, replayed_at
  FROM dead_letter_replays WHERE topic = %s"""
_CLAIM_REPLAY = """
INSERT INTO dead_letter_replays (topic, partition, "offset", written_at, replays, resent_topic)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT DO NOTHING
RETURNING 1"""
_RECORD_RESENT = """
UPDATE dead_letter_replays SET resent_partition = %s, resent_offset = %s
 WHERE topic = %s AND partition = %s AND "offset" = %s AND written_at = %s"""
#: Titles inserted per statement while seeding the demo catalogue.
_SEED_CHUNK = 1000

#: Tables gaining a row per request (or per replayed dead letter), by the column
#: saying when it was written: rows older than the retention are deleted (see
#: :meth:`Database.prune_expired`). Each row guards something Kafka could deliver
#: again; past the retention it cannot.
PRUNED_TABLES = {
    "processed_events": "processed_at",
    "signup_user_ids": "claimed_at",
    "dead_letter_replays": "replayed_at",
    "request_outcomes": "recorded_at",
}
#: Held by the one worker pruning, so that two never delete the same rows.
PRUNE_LOCK_KEY = 4_711_2026
_TRY_LOCK = "SELECT pg_try_advisory_lock(%s)"
_UNLOCK = "SELECT pg_advisory_unlock(%s)"
_INDEX_VALID = """
SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace"""
# CONCURRENTLY: writers go on while a big table is indexed (outside any transaction).
_DROP_INDEX = "DROP INDEX CONCURRENTLY IF EXISTS {index}"
_CREATE_INDEX = "CREATE INDEX CONCURRENTLY IF NOT EXISTS {index} ON {table} ({column})"
# One short statement per batch: row locks on expired rows only, which nobody writes.
_PRUNE_BATCH = """
DELETE FROM {table} WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM {table} WHERE {column} < now() - make_interval(secs => %s) LIMIT %s))"""


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
class AppliedViewings:
    """What ``apply_viewings`` did with a batch: one outcome per event, the states it moved."""

    outcomes: list[AppliedOutcome]
    #: One per (user, title) the batch moved (see migrations/0006_viewings.sql).
    changes: list[dict[str, Any]]


class RecordedOutcome(NamedTuple):
    """A ``processed_events`` row: the outcome of one event, kept with its effect."""

    event_type: str
    user_id: int
    outcome: str
    processed_at: datetime


class DeadLetterKey(NamedTuple):
    """One dead letter: its place in the dead-letter topic and when it was written."""

    topic: str
    partition: int
    offset: int
    written_at: datetime


class DeadLetterReplay(NamedTuple):
    """A dead letter's replay: the count the re-sent event carried, and where it went."""

    replays: int
    resent_topic: str
    resent_partition: int | None
    resent_offset: int | None
    replayed_at: datetime


class CheckpointKey(NamedTuple):
    """Whose checkpoint: one agent of one consumer group, on one topic."""

    group_id: str
    agent: str
    topic: str


@dataclass(frozen=True, slots=True)
class AppliedOutcome:
    """What ``apply_events`` did with one event."""

    correlation_id: str
    outcome: str
    replayed: bool


class KnownUser(NamedTuple):
    """A user that exists, and the name of the API key that created it (if known)."""

    user_id: int
    criado_por: str | None


@dataclass(frozen=True, slots=True)
class Subscription:
    """A user's current subscription as ``assinaturas`` holds it."""

    plano: str
    inicio: date
    fim: date


class Database(Service):
    """Owns the aiopg pool; runs migrations once connected; answers every query.

    After migrating it seeds the demo catalogue into ``conteudos`` (see
    :meth:`_seed_demo_catalogue`).
    """

    def __init__(self, dsn: str, pool_size: int, **kwargs: Any) -> None:
        self._dsn = dsn
        self._pool_size = pool_size
        self._pool: aiopg.Pool | None = None
        self._ready = asyncio.Event()
        super().__init__(**kwargs)

    @Service.task
    async def _connect_and_migrate(self) -> None:
        await retrying(self._open_and_migrate, on=TRANSIENT_ERRORS, what="connecting to PostgreSQL")
        self._ready.set()
        log.info("PostgreSQL ready")

    async def _open_and_migrate(self) -> None:
        await self._open_pool()
        await self._migrate()

    async def _open_pool(self) -> None:
        if self._pool is None:
            self._pool = await aiopg.create_pool(
                self._dsn,
                minsize=1,
                maxsize=self._pool_size,
                timeout=30.0,
                enable_hstore=False,
            )

    async def on_stop(self) -> None:
        """Close the pool's connections."""
        if self._pool is not None:
            self._pool.close()
            await self._pool.wait_closed()

    @property
    def is_ready(self) -> bool:
        """True once connected and migrated."""
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        """Return once the pool is open and the schema migrated."""
        await self._ready.wait()

    @property
    def pool(self) -> aiopg.Pool:
        """The open pool (only after :meth:`wait_ready`)."""
        if self._pool is None:
            raise psycopg2.OperationalError("PostgreSQL pool not open yet")
        return self._pool

    async def _migrate(self) -> None:
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK_KEY,))
            try:
                await cur.execute(_CREATE_MIGRATIONS_TABLE)
                await cur.execute(_APPLIED_MIGRATIONS)
                applied = {row[0] for row in await cur.fetchall()}
                for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
                    if path.stem not in applied:
                        await self._apply_migration(cur, path)
                await self._seed_demo_catalogue(cur)
            finally:
                await cur.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK_KEY,))

    @staticmethod
    async def _apply_migration(cur: aiopg.Cursor, path: Path) -> None:
        log.info("applying migration %s", path.name)
        async with cur.begin():
            await cur.execute(path.read_text())
            await cur.execute(_RECORD_MIGRATION, (path.stem,))

    @staticmethod
    async def _seed_demo_catalogue(cur: aiopg.Cursor) -> None:
        """Insert the demo titles missing from ``conteudos`` (never overwriting one).

        Runs under the migration lock, so one worker seeds while the others
        wait and then find the table full; a seed cut short is completed by the
        next start, as existing ids are skipped.
        """
        await cur.execute(_CATALOGUE_SIZE)
        (size,) = await cur.fetchone()
        if size >= len(DEMO_IDS):
            return
        titles = demo_catalogue()
        log.info("seeding the demo catalogue: %d titles", len(titles))
        for start in range(0, len(titles), _SEED_CHUNK):
            chunk = titles[start : start + _SEED_CHUNK]
            rows = ",".join(cur.mogrify(_TITLE_ROW, _title_row(t)).decode() for t in chunk)
            await cur.execute(_INSERT_TITLES.format(rows=rows))
        await cur.execute(_ANALYZE_CATALOGUE)

    async def apply_events(self, events: list[dict[str, Any]]) -> list[AppliedOutcome]:
        """Apply validated events in order, atomically, each at most once ever."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_APPLY_EVENTS, (orjson.dumps(events).decode(),))
            rows = await cur.fetchall()
        return [AppliedOutcome(cid, outcome, replayed) for cid, outcome, replayed in rows]

    async def apply_viewings(self, events: list[dict[str, Any]]) -> AppliedViewings:
        """Apply heartbeats, each at most once ever: the latest state per (user, title)."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_APPLY_VIEWINGS, (orjson.dumps(events).decode(),))
            (result,) = await cur.fetchone()
        outcomes = [
            AppliedOutcome(cid, outcome, replayed) for cid, outcome, replayed in result["outcomes"]
        ]
        return AppliedViewings(outcomes, result["changes"])

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

    async def recorded_outcome(
        self, correlation_id: str, ledger_after_s: float = 0.0
    ) -> dict[str, Any] | RecordedOutcome | None:
        """The status recorded for ``correlation_id`` (a status record's JSON), else the
        ledger row of its applied event once ``ledger_after_s`` old, else None."""
        params = {"cid": correlation_id, "grace": ledger_after_s}
        rows = await self._rows(_RECORDED_OUTCOME, params)
        if not rows:
            return None
        record, *ledger, _ = rows[0]
        return record if record is not None else RecordedOutcome(*ledger)

    async def record_outcomes(self, outcomes: list[tuple[str, dict[str, Any], int]]) -> None:
        """Keep ``(correlation_id, status record, replays)`` of final statuses (a replay's
        later outcome replaces an earlier one)."""
        if not outcomes:
            return
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            rows = [
                cur.mogrify("(%s::uuid, %s::jsonb, %s)", (cid, orjson.dumps(record).decode(), n))
                for cid, record, n in outcomes
            ]
            await cur.execute(_RECORD_OUTCOMES.format(rows=b",".join(rows).decode()))

    async def existing_users(self, user_ids: list[int]) -> set[int]:
        """Which of ``user_ids`` exist."""
        return {row[0] for row in await self._rows(_EXISTING_USERS, (user_ids,))}

    async def tastes(self, user_ids: list[int]) -> list[tuple[Any, ...]]:
        """Every viewing state of these users, with each title's ``tipo`` and ``categoria``:
        ``(user_id, conteudo_id, tipo, categoria, posicao, concluido, tempo_assistido,
        ultimo_acesso)``."""
        return await self._rows(_TASTES, (user_ids,))

    async def co_viewing(self, titles: list[int]) -> list[tuple[int, int, int]]:
        """``(title, neighbour, users who watched both)`` of these titles, strongest first."""
        return await self._rows(_CO_VIEWING, (titles,))

    async def title_infos(self, titles: list[int]) -> list[tuple[int, str, str, str, int]]:
        """``(conteudo_id, titulo, tipo, categoria, distinct viewers)`` of these titles."""
        return await self._rows(_TITLE_INFOS, (titles,))

    async def _rows(self, statement: str, params: tuple[Any, ...] | dict[str, Any]) -> list[Any]:
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(statement, params)
            return list(await cur.fetchall())

    async def checkpoints(self, key: CheckpointKey, partitions: list[int]) -> dict[int, int]:
        """The next offset ``key``'s agent expects, per partition (saved ones only)."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_CHECKPOINTS, (*key, partitions))
            return dict(await cur.fetchall())

    async def save_checkpoints(self, key: CheckpointKey, next_offsets: dict[int, int]) -> None:
        """Move ``key``'s checkpoints forward (never back) to ``next_offsets``."""
        partitions, offsets = list(next_offsets), list(next_offsets.values())
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_SAVE_CHECKPOINTS, (*key, partitions, offsets))

    async def seed_checkpoints(self, key: CheckpointKey, next_offsets: dict[int, int]) -> None:
        """Give ``key``'s partitions without a checkpoint one at ``next_offsets``."""
        partitions, offsets = list(next_offsets), list(next_offsets.values())
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_SEED_CHECKPOINTS, (*key, partitions, offsets))

    async def dead_letter_replays(self, topic: str) -> dict[DeadLetterKey, DeadLetterReplay]:
        """The dead letters of ``topic`` replayed so far, with their replays."""
        rows = await self._rows(_REPLAYED_DEAD_LETTERS, (topic,))
        return {
            DeadLetterKey(topic, partition, offset, written_at): DeadLetterReplay(*replay)
            for partition, offset, written_at, *replay in rows
        }

    async def replay_once(
        self,
        letter: DeadLetterKey,
        replays: int,
        resent_topic: str,
        resend: Callable[[], Awaitable[tuple[int, int]]],
    ) -> tuple[int, int] | None:
        """Run ``resend`` under a claim on ``letter``; where it put the event, or None if claimed.

        The claim commits only once ``resend`` returned (the event is in
        Kafka): a failed send leaves the dead letter to replay again, and a
        second replay of it, even a concurrent one, sends nothing.
        """
        claim = (*letter, replays, resent_topic)
        async with self.pool.acquire() as conn, conn.cursor() as cur, cur.begin():
            await cur.execute(_CLAIM_REPLAY, claim)
            if await cur.fetchone() is None:
                return None
            partition, offset = await resend()
            await cur.execute(_RECORD_RESENT, (partition, offset, *letter))
        return partition, offset

    async def reserve_user_ids(self) -> range:
        """A block of user ids no other worker, now or later, will hand out."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_NEXT_USER_ID_BLOCK)
            first, size = await cur.fetchone()
        return range(first, first + size)

    async def claim_signup_user_id(self, correlation_id: str, user_id: int) -> int:
        """The user id of sign-up ``correlation_id``: ``user_id`` if it is the first to claim one."""
        params = {"cid": correlation_id, "uid": user_id}
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            for _ in range(_CLAIM_ATTEMPTS):
                await cur.execute(_CLAIM_SIGNUP_USER_ID, params)
                row = await cur.fetchone()
                if row is not None:
                    return int(row[0])
        raise psycopg2.OperationalError(f"no user id claimed for sign-up {correlation_id}")

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

    async def prune_expired(self, retention_s: float, batch: int) -> dict[str, int] | None:
        """Delete the rows of :data:`PRUNED_TABLES` written over ``retention_s`` ago.

        In statements of at most ``batch`` rows, each its own short transaction,
        under an advisory lock: ``None`` when another worker holds it. Returns
        the rows deleted per table.
        """
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_TRY_LOCK, (PRUNE_LOCK_KEY,))
            (locked,) = await cur.fetchone()
            if not locked:
                return None
            try:
                return {
                    table: await _prune_table(cur, table, column, retention_s, batch)
                    for table, column in PRUNED_TABLES.items()
                }
            finally:
                await cur.execute(_UNLOCK, (PRUNE_LOCK_KEY,))

    async def ping(self) -> bool:
        """True once migrated and seeded, when PostgreSQL answers a trivial query within a second.

        Before that, requests needing the database would get 503s: a worker is
        not ready yet (``GET /health`` answers 503), though PostgreSQL may be up.
        """
        if self._pool is None or not self.is_ready:
            return False
        try:
            async with asyncio.timeout(1.0), self._pool.acquire() as conn, conn.cursor() as cur:
                await cur.execute("SELECT 1")
            return True
        except TRANSIENT_ERRORS:
            return False


async def _prune_table(
    cur: aiopg.Cursor, table: str, column: str, retention_s: float, batch: int
) -> int:
    """Delete ``table``'s expired rows batch by batch, once the index finding them is built."""
    await _ensure_index(cur, f"{table}_{column}", table, column)
    statement = _PRUNE_BATCH.format(table=table, column=column)
    deleted = 0
    while True:
        await cur.execute(statement, (retention_s, batch))
        deleted += cur.rowcount
        if cur.rowcount < batch:
            return deleted
        await asyncio.sleep(0)  # the loop's other work goes on between batches


async def _ensure_index(cur: aiopg.Cursor, index: str, table: str, column: str) -> None:
    """Build ``index`` without blocking writers; one left invalid by a crash is built again."""
    await cur.execute(_INDEX_VALID, (index,))
    row = await cur.fetchone()
    if row is not None and row[0]:
        return
    if row is not None:
        await cur.execute(_DROP_INDEX.format(index=index))
    log.info("indexing %s.%s to prune it (without blocking writers)", table, column)
    await cur.execute(_CREATE_INDEX.format(index=index, table=table, column=column))
