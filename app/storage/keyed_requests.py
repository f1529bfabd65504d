"""Requests sent with an ``Idempotency-Key`` (``keyed_requests``, migration 0012): when each
was first accepted.

A derived correlation id (:meth:`app.requests.envelope.CorrelationIds.derive`)
carries no issue time; this row gives it one, for as long as the ledger keeps
its rows (:mod:`app.storage.ledger_pruning`).
"""

from __future__ import annotations

from datetime import datetime

from app.storage.pool import Pooled

# A request sent again keeps the time it was first accepted.
_RECORD_KEYED_REQUEST = """
INSERT INTO keyed_requests (correlation_id) VALUES (%s::uuid)
ON CONFLICT (correlation_id) DO NOTHING"""
_KEYED_REQUEST_ACCEPTED = "SELECT accepted_at FROM keyed_requests WHERE correlation_id = %s::uuid"


class KeyedRequestQueries(Pooled):
    """Recording and reading when a keyed request was first accepted."""

    async def record_keyed_request(self, correlation_id: str) -> None:
        """Note that the keyed request ``correlation_id`` is accepted (its first time stays)."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(_RECORD_KEYED_REQUEST, (correlation_id,))

    async def keyed_request_accepted_at(self, correlation_id: str) -> datetime | None:
        """When the keyed request ``correlation_id`` was first accepted; None once forgotten."""
        rows = await self._rows(_KEYED_REQUEST_ACCEPTED, (correlation_id,))
        return rows[0][0] if rows else None
