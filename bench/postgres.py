"""The bench's reads and writes in PostgreSQL: user ids, when processing began, cleanup.

Synchronous (psycopg2): these run between measurements, never during one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import psycopg2
from psycopg2 import sql

from app.settings import get_settings
from app.storage.ledger_pruning import PRUNED_TABLES

_RESERVE_BLOCKS = """
SELECT nextval('user_id_blocks'), (SELECT increment_by FROM pg_sequences
                                    WHERE sequencename = 'user_id_blocks')
  FROM generate_series(1, %s)"""
_FIRST_APPLIED = """
SELECT count(*), min(processed_at) FROM processed_events WHERE correlation_id = ANY(%s::uuid[])"""
# What the bench's viewers added to co-viewing and to the titles' viewer counts
# is taken back before their viewings go (pairs the prune dropped are gone already).
_DELETE_VIEWINGS = [
    """CREATE TEMP TABLE bench_pairs ON COMMIT DROP AS
       SELECT a.conteudo_id AS x, b.conteudo_id AS y, count(*) AS n
         FROM visualizacoes a
         JOIN visualizacoes b ON a.user_id = b.user_id AND a.conteudo_id <> b.conteudo_id
        WHERE a.user_id = ANY(%s) GROUP BY 1, 2""",
    """DELETE FROM co_visualizacoes c USING bench_pairs p
        WHERE c.conteudo_id = p.x AND c.vizinho_id = p.y AND c.vezes <= p.n""",
    """UPDATE co_visualizacoes c SET vezes = c.vezes - p.n FROM bench_pairs p
        WHERE c.conteudo_id = p.x AND c.vizinho_id = p.y""",
    """UPDATE conteudos t SET visualizacoes = greatest(0, t.visualizacoes - v.n)
         FROM (SELECT conteudo_id, count(*) AS n FROM visualizacoes
                WHERE user_id = ANY(%s) GROUP BY 1) v
        WHERE t.conteudo_id = v.conteudo_id""",
    "DELETE FROM visualizacoes WHERE user_id = ANY(%s)",
]
_DELETE_BY_USER = [
    "DELETE FROM pagamentos WHERE user_id = ANY(%s)",
    "DELETE FROM assinaturas WHERE user_id = ANY(%s)",
    "DELETE FROM preferencias WHERE user_id = ANY(%s)",
    "DELETE FROM usuarios WHERE user_id = ANY(%s)",
]
_DELETE_BY_EVENT = [
    "DELETE FROM processed_events WHERE correlation_id = ANY(%s::uuid[])",
    "DELETE FROM signup_user_ids WHERE correlation_id = ANY(%s::uuid[])",
]
_DATABASE_SIZE = "SELECT pg_database_size(current_database())"
_CHECKPOINTS = """
SELECT partition, next_offset FROM agent_checkpoints
 WHERE group_id = %s AND agent = %s AND topic = %s"""
_COUNT = "SELECT count(*) FROM {}"
_CHUNK = 20_000


def _connect() -> psycopg2.extensions.connection:
    return psycopg2.connect(get_settings().postgres_dsn)


def reserve_user_ids(count: int) -> list[int]:
    """``count`` user ids from the app's own id blocks: no worker will ever hand them out."""
    with _connect() as conn, conn.cursor() as cur:
        cur.execute(_RESERVE_BLOCKS, (max(1, -(-count // 1000)),))
        ids = [i for first, size in cur.fetchall() for i in range(first, first + size)]
    conn.close()
    return ids[:count]


def first_applied_at(correlation_ids: Sequence[str]) -> tuple[int, datetime | None]:
    """How many of these events are recorded, and the start of the first transaction."""
    with _connect() as conn, conn.cursor() as cur:
        cur.execute(_FIRST_APPLIED, (list(correlation_ids),))
        row = cur.fetchone()
    conn.close()
    return (0, None) if row is None else (int(row[0]), row[1])


def checkpoints(group_id: str, agent: str, topic: str) -> dict[int, int]:
    """How far one agent of one group has got on a topic, per partition."""
    with _connect() as conn, conn.cursor() as cur:
        cur.execute(_CHECKPOINTS, (group_id, agent, topic))
        rows = cur.fetchall()
    conn.close()
    return dict(rows)


def delete_rows(user_ids: Iterable[int], correlation_ids: Iterable[str]) -> None:
    """Remove what the bench wrote: its users (and their rows and viewings), its processed events.

    The titles' viewer counts and co-viewing pairs its viewers added are taken back.
    """
    users, events = list(user_ids), list(correlation_ids)
    with _connect() as conn, conn.cursor() as cur:
        for start in range(0, max(len(users), len(events)), _CHUNK):
            for statement in _DELETE_VIEWINGS:
                cur.execute(statement, (users[start : start + _CHUNK],))
            conn.commit()  # drops the temporary table
            for statement in _DELETE_BY_USER:
                cur.execute(statement, (users[start : start + _CHUNK],))
            for statement in _DELETE_BY_EVENT:
                cur.execute(statement, (events[start : start + _CHUNK],))
    conn.close()


def database_size_mb() -> float:
    """The database's size on disk, in MiB."""
    with _connect() as conn, conn.cursor() as cur:
        cur.execute(_DATABASE_SIZE)
        row = cur.fetchone()
    conn.close()
    return 0.0 if row is None else int(row[0]) / 1024**2


def pruned_table_rows() -> dict[str, int]:
    """Rows now in each table the ledger's pruning keeps bounded (``PRUNED_TABLES``)."""
    found = {}
    with _connect() as conn, conn.cursor() as cur:
        for table in PRUNED_TABLES:
            cur.execute(sql.SQL(_COUNT).format(sql.Identifier(table)))
            row = cur.fetchone()
            found[table] = 0 if row is None else int(row[0])
    conn.close()
    return found
