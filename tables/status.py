"""The correlation-status table: correlation id -> the outcome of its request.

Fed by ``response_events`` (keyed by correlation id, same partition count), so
``@app.table_route`` can send ``GET /status/{id}`` to the worker that owns the
key. Stored in RocksDB and replicated to a compacted changelog topic, so
statuses survive restarts and move with their partitions on rebalance.

Transitions: an id absent from the table is ``pendente`` (if it was issued);
it then becomes ``success`` or ``error`` once, and a final status never changes
(a redelivered response carries the same outcome and is ignored).
"""

from __future__ import annotations

from typing import Any

from app.application import app, settings

PENDING = "pendente"
SUCCESS = "success"
ERROR = "error"
FINAL_STATUSES = frozenset({SUCCESS, ERROR})

#: Small RocksDB buffers: the defaults (2 GiB block cache per partition) would
#: dwarf the rest of the worker.
_ROCKSDB_OPTIONS = {
    "write_buffer_size": 4 * 1024**2,
    "max_write_buffer_number": 2,
    "target_file_size_base": 8 * 1024**2,
    "block_cache_size": 8 * 1024**2,
    "block_cache_compressed_size": 1024**2,
}

statuses = app.Table(
    "correlation_status",
    # bytes keys travel raw, exactly like response_events' keys, so the router
    # hashes a correlation id to the same partition the agent wrote it to.
    key_type=bytes,
    partitions=settings.topic_partitions,
    options=dict(_ROCKSDB_OPTIONS),
    # Standby copies apply each changelog entry at once (Faust's default buffers
    # 1000): a survivor answers a dead owner's final statuses from its copy, so
    # the copy must not trail by up to a thousand statuses.
    standby_buffer_size=1,
    help="correlation id -> outcome of its request",
)


def may_record(current: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    """Whether ``new`` may replace ``current``: only a final status, only once."""
    if new.get("status") not in FINAL_STATUSES:
        return False
    return current is None or current.get("status") not in FINAL_STATUSES


def status_from_response(response: dict[str, Any]) -> dict[str, Any]:
    """The status record kept for a ``response_events`` value."""
    return {
        "correlation_id": response["correlation_id"],
        "status": response["status"],
        "message": response.get("message"),
        "original_event_type": response.get("original_event_type"),
        "user_id": response.get("user_id"),
        "requested_at": response.get("request_timestamp"),
        "processed_at": response.get("timestamp"),
        "requested_by": response.get("requested_by"),
    }
