"""How every table of the app is stored: RocksDB with small buffers, routable by key.

Every partition's database takes its block cache and write buffers from the
worker's one shared budget (:mod:`app.table_store`, the app's store); the
options below size each database within it. Each table is keyed by raw bytes exactly like the topic that feeds it (same
bytes, same partition count), so a request for a key can be routed to the
worker owning the key's partition (:mod:`web.routing`), and the agent writes
each key to the partition its event came from.
"""

from __future__ import annotations

from faust.types import TableT

from app.application import platform

services = platform()

#: Each database's own sizes. The block cache is not sized here: every database
#: shares the worker's one (``ROCKSDB_BLOCK_CACHE_MB``). A memtable is flushed at
#: 1 MiB: RocksDB flushes the database being written when all memtables together
#: pass ``ROCKSDB_WRITE_BUFFER_MB``, never an idle one, so it is the per-database
#: size that keeps the total there (32 databases x 1 MiB = the default 32 MiB).
ROCKSDB_OPTIONS = {
    "write_buffer_size": 1024**2,
    "max_write_buffer_number": 2,
    "target_file_size_base": 8 * 1024**2,
}


def routable_table(name: str, help: str) -> TableT:
    """A changelog-backed table of JSON values under raw byte keys, read through standbys too."""
    return services.app.Table(
        name,
        # bytes keys travel raw, exactly like the feeding topic's keys, so the
        # router hashes a key to the same partition the agent wrote it to.
        key_type=bytes,
        partitions=services.settings.topic_partitions,
        options=dict(ROCKSDB_OPTIONS),
        # Standby copies apply each changelog entry at once (Faust's default buffers
        # 1000): a survivor answers a dead owner's keys from its copy, so the copy
        # must not trail by up to a thousand entries.
        standby_buffer_size=1,
        # The changelog is replicated like every topic of the app (Faust applies
        # ``topic_replication_factor``; this adds ``min.insync.replicas``).
        extra_topic_configs=services.settings.topic_config,
        help=help,
    )
