"""The correlation-status table: correlation id -> the outcome of its request.

Fed by ``response_events`` (keyed by correlation id, same partition count), so
``GET /status/{id}`` can be routed to the worker that owns the key. Stored in
RocksDB and replicated to a compacted changelog topic, so statuses survive
restarts and move with their partitions on rebalance. Values are the JSON form
of :class:`app.requests.outcomes.StatusRecord`.

Transitions: an id absent from the table is ``pendente`` (if it was issued);
it then becomes ``success`` or ``error`` once, and a final status never changes
(a redelivered outcome carries the same result and is ignored).
"""

from __future__ import annotations

from app.requests.outcomes import StatusRecord
from tables.routable import routable_table

statuses = routable_table("correlation_status", help="correlation id -> outcome of its request")


def stored_status(correlation_id: str) -> StatusRecord | None:
    """The status this worker's copy of the table holds for ``correlation_id``, if any."""
    value = statuses.get(correlation_id.encode())
    return None if value is None else StatusRecord.model_validate(value)
