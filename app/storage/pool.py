"""The connection pool every query module reads through, and the errors worth waiting out.

Each concept's queries (:mod:`app.storage.ledger`, :mod:`app.storage.users`,
...) are a class built on :class:`Pooled`; :class:`app.storage.database.Database`,
the service that opens the pool, is all of them at once.
"""

from __future__ import annotations

from typing import Any

import aiopg
import psycopg2

#: Errors after which the same statement may succeed later (server restarting,
#: connection dropped, lock conflict): the caller waits and retries.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
    psycopg2.extensions.TransactionRollbackError,
    TimeoutError,
    OSError,
)


#: Runs of an insert-or-read claim at most: a concurrent claim is committed by the second.
CLAIM_ATTEMPTS = 3


class Pooled:
    """Reads and writes through the service's aiopg pool (opened by the Database service)."""

    _pool: aiopg.Pool | None = None

    @property
    def pool(self) -> aiopg.Pool:
        """The open pool (only after :meth:`app.storage.database.Database.wait_ready`)."""
        if self._pool is None:
            raise psycopg2.OperationalError("PostgreSQL pool not open yet")
        return self._pool

    async def _rows(self, statement: str, params: tuple[Any, ...] | dict[str, Any]) -> list[Any]:
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(statement, params)
            return list(await cur.fetchall())

    async def _claimed(self, statement: str, params: dict[str, Any], what: str) -> Any:
        """The first column of an insert-or-read ``statement``'s row, run until it gives one.

        Such a statement (``INSERT ... ON CONFLICT DO NOTHING RETURNING`` then a
        read) sees no row when a concurrent claim commits after its snapshot:
        the next run sees that claim. Raises after :data:`CLAIM_ATTEMPTS` runs.
        """
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            for _ in range(CLAIM_ATTEMPTS):
                await cur.execute(statement, params)
                row = await cur.fetchone()
                if row is not None:
                    return row[0]
        raise psycopg2.OperationalError(f"nothing claimed for {what}")
