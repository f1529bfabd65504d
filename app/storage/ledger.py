"""The ledger: events applied once each, with their outcomes (``processed_events``, ``request_outcomes``).

``apply_events`` and ``apply_viewings`` (PL/pgSQL, migrations 0008 and 0013)
apply a batch of account events or heartbeats in order, each at most once ever,
recording each in ``processed_events`` in the same transaction as its effect;
a redelivered event finds its row and gets its first outcome back. The status
agent keeps every final status in ``request_outcomes``; a status read the
table cannot answer asks here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson

from app.storage.pool import Pooled

# correlation_id as text: psycopg2's UUID adapter would only be undone by str().
_APPLY_EVENTS = "SELECT correlation_id::text, outcome, replayed FROM apply_events(%s::jsonb)"


_APPLY_VIEWINGS = "SELECT apply_viewings(%s::jsonb)"


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


@dataclass(frozen=True, slots=True)
class AppliedOutcome:
    """What ``apply_events`` did with one event."""

    correlation_id: str
    outcome: str
    replayed: bool


@dataclass(frozen=True, slots=True)
class AppliedViewings:
    """What ``apply_viewings`` did with a batch: one outcome per event, the states it moved."""

    outcomes: list[AppliedOutcome]
    #: One per (user, title) the batch moved (see migrations/0006_viewings.sql and 0013).
    changes: list[dict[str, Any]]


class RecordedOutcome(NamedTuple):
    """A ``processed_events`` row: the outcome of one event, kept with its effect."""

    event_type: str
    user_id: int
    outcome: str
    processed_at: datetime


class LedgerQueries(Pooled):
    """Applying events through the ledger, and reading and keeping their outcomes."""

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
                for cid, record, n in latest_per_request(outcomes)
            ]
            await cur.execute(_RECORD_OUTCOMES.format(rows=b",".join(rows).decode()))


def latest_per_request(
    outcomes: list[tuple[str, dict[str, Any], int]],
) -> list[tuple[str, dict[str, Any], int]]:
    """One outcome per correlation id: the most replayed (the first of equals).

    A batch may hold one request's outcome twice (sent again after a crash, or
    answered again from the ledger), and one ``INSERT ... ON CONFLICT DO
    UPDATE`` may not touch a row twice.
    """
    kept: dict[str, tuple[str, dict[str, Any], int]] = {}
    for outcome in outcomes:
        correlation_id, _, replays = outcome
        if correlation_id not in kept or replays > kept[correlation_id][2]:
            kept[correlation_id] = outcome
    return list(kept.values())
