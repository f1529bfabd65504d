"""How every table of the app is stored: RocksDB with small buffers, routable by key.

Each table is keyed by raw bytes exactly like the topic that feeds it (same
bytes, same partition count), so a request for a key can be routed to the
worker owning the key's partition (:mod:`web.routing`), and the agent writes
each key to the partition its event came from.
"""

from __future__ import annotations

from faust.types import TableT

from app.application import app, settings

#: Small RocksDB buffers: the defaults (2 GiB block cache per partition) would
#: dwarf the rest of the worker.
ROCKSDB_OPTIONS = {
    "write_buffer_size": 4 * 1024**2,
    "max_write_buffer_number": 2,
    "target_file_size_base": 8 * 1024**2,
    "block_cache_size": 8 * 1024**2,
    "block_cache_compressed_size": 1024**2,
}


def routable_table(name: str, help: str) -> TableT:
    """A changelog-backed table of JSON values under raw byte keys, read through standbys too."""
    return app.Table(
        name,
        # bytes keys travel raw, exactly like the feeding topic's keys, so the
        # router hashes a key to the same partition the agent wrote it to.
        key_type=bytes,
        partitions=settings.topic_partitions,
        options=dict(ROCKSDB_OPTIONS),
        # Standby copies apply each changelog entry at once (Faust's default buffers
        # 1000): a survivor answers a dead owner's keys from its copy, so the copy
        # must not trail by up to a thousand entries.
        standby_buffer_size=1,
        # The changelog is replicated like every topic of the app (Faust applies
        # ``topic_replication_factor``; this adds ``min.insync.replicas``).
        extra_topic_configs=settings.topic_config,
        help=help,
    )
