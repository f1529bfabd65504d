"""Pruning what Kafka can no longer deliver again: the ledger's rows past their retention."""

from __future__ import annotations

import asyncio
import logging

import aiopg

from app.storage.pool import Pooled

log = logging.getLogger(__name__)


#: Tables gaining a row per request (or per replayed dead letter), by the column
#: saying when it was written: rows older than the retention are deleted (see
#: :meth:`PruningQueries.prune_expired`). Each row guards something Kafka could deliver
#: again; past the retention it cannot.
PRUNED_TABLES = {
    "processed_events": "processed_at",
    "signup_user_ids": "claimed_at",
    "dead_letter_replays": "replayed_at",
    "request_outcomes": "recorded_at",
    "keyed_requests": "accepted_at",
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


class PruningQueries(Pooled):
    """Deleting expired rows in short batches, one worker at a time."""

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
