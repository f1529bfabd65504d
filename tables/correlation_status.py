"""The correlation-status table: correlation id -> the outcome of its request.

Fed by ``response_events`` (keyed by correlation id, same partition count), so
``GET /status/{id}`` can be routed to the worker that owns the key. Stored in
RocksDB and replicated to a compacted changelog topic, so statuses survive
restarts and move with their partitions on rebalance. Values are the JSON form
of :class:`app.status_record.StatusRecord`.

Transitions: an id absent from the table is ``pendente`` (if it was issued);
it then becomes ``success`` or ``error`` once, and a final status never changes
(a redelivered outcome carries the same result and is ignored).
"""

from __future__ import annotations

from app.application import app, settings
from app.status_record import StatusRecord

#: Small RocksDB buffers: the defaults (2 GiB block cache per partition) would
#: dwarf the rest of the worker.
ROCKSDB_OPTIONS = {
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
    options=dict(ROCKSDB_OPTIONS),
    # Standby copies apply each changelog entry at once (Faust's default buffers
    # 1000): a survivor answers a dead owner's final statuses from its copy, so
    # the copy must not trail by up to a thousand statuses.
    standby_buffer_size=1,
    # Its changelog is replicated like every topic of the app (Faust applies
    # ``topic_replication_factor``; this adds ``min.insync.replicas``).
    extra_topic_configs=settings.topic_config,
    help="correlation id -> outcome of its request",
)


def stored_status(correlation_id: str) -> StatusRecord | None:
    """The status this worker's copy of the table holds for ``correlation_id``, if any."""
    value = statuses.get(correlation_id.encode())
    return None if value is None else StatusRecord.model_validate(value)
