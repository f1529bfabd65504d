"""How every table of a worker is stored: RocksDB under one memory budget.

Faust opens one RocksDB database per table partition (4 tables x 8 partitions
= 32 databases on a worker owning them all), and by default gives each its own
block cache and write buffers, so a worker's memory has no ceiling anyone can
state. Here every database of the process shares ONE block cache (LRU) and ONE
write-buffer manager whose memtables are charged to that same cache: the
RocksDB memory of the worker is the cache's capacity (``ROCKSDB_BLOCK_CACHE_MB``),
whatever the partition count; ``ROCKSDB_WRITE_BUFFER_MB`` is the part of it
memtables may take before the largest is flushed. Index and filter blocks live
in the cache too, so the number of files on disk does not add to it either.

The store is Faust's RocksDB store with those shared objects put into the
options it opens each database with; the app selects it by URL scheme
(:data:`STORE_URL`), so every table, whatever module declares it, gets it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import rocksdict
from faust.stores import STORES
from faust.stores import rocksdb as faust_rocksdb
from prometheus_client import Gauge

from app.settings import get_settings

#: The URL scheme of :class:`SharedMemoryStore` (``store=`` of the app).
SCHEME = "rocksdb-shared"
STORE_URL = f"{SCHEME}://"
MIB = 1024**2

#: On ``/metrics`` of a worker holding tables: what the budget allows and what is used.
CACHE_CAPACITY = Gauge(
    "rocksdb_block_cache_capacity_bytes", "The shared RocksDB block cache's capacity"
)
CACHE_USAGE = Gauge(
    "rocksdb_block_cache_usage_bytes",
    "Bytes held in the shared RocksDB block cache, the memtables charged to it included",
)
WRITE_BUFFERS = Gauge(
    "rocksdb_write_buffers_bytes", "Bytes of memtables in every RocksDB database of the worker"
)


@dataclass(frozen=True, slots=True)
class MemoryBudget:
    """The sizes of the worker's shared block cache and of its memtables' share of it."""

    block_cache_bytes: int
    write_buffer_bytes: int


class SharedMemory:
    """One block cache, and one write-buffer manager charged to it, for all databases."""

    def __init__(self, budget: MemoryBudget) -> None:
        self.budget = budget
        self.cache = rocksdict.Cache(budget.block_cache_bytes)
        # No stall: rocksdict writes run on the event loop, a stalled write
        # would stop the worker; a memtable over budget is flushed instead.
        self.write_buffers = rocksdict.WriteBufferManager.new_write_buffer_manager_with_cache(
            budget.write_buffer_bytes, False, self.cache
        )

    def publish(self) -> None:
        """Report this memory's capacity and usage on ``/metrics``."""
        CACHE_CAPACITY.set(self.budget.block_cache_bytes)
        CACHE_USAGE.set_function(self.cache.get_usage)
        WRITE_BUFFERS.set_function(self.write_buffers.get_usage)


@cache
def shared_memory(budget: MemoryBudget) -> SharedMemory:
    """The process's one :class:`SharedMemory` of ``budget`` (the same object each call)."""
    return SharedMemory(budget)


def configured_budget() -> MemoryBudget:
    """The budget the settings give (``ROCKSDB_BLOCK_CACHE_MB``, ``ROCKSDB_WRITE_BUFFER_MB``)."""
    settings = get_settings()
    return MemoryBudget(
        settings.rocksdb_block_cache_mb * MIB, settings.rocksdb_write_buffer_mb * MIB
    )


class SharedMemoryOptions(faust_rocksdb.RocksDBOptions):
    """Faust's RocksDB options, with the shared cache and write buffers in place of its own."""

    def __init__(self, memory: SharedMemory, **options: Any) -> None:
        super().__init__(**options)
        self.memory = memory

    def as_options(self) -> rocksdict.Options:
        """The options of one database: Faust's sizes, the worker's shared memory."""
        options = rocksdict.Options(raw_mode=True)
        options.create_if_missing(True)
        if self.max_open_files is not None:
            options.set_max_open_files(self.max_open_files)
        options.set_write_buffer_size(self.write_buffer_size)
        options.set_max_write_buffer_number(self.max_write_buffer_number)
        options.set_target_file_size_base(self.target_file_size_base)
        options.set_write_buffer_manager(self.memory.write_buffers)
        table = rocksdict.BlockBasedOptions()
        table.set_bloom_filter(self.bloom_filter_size, True)
        table.set_block_cache(self.memory.cache)
        # Index and filter blocks in the cache: bounded by it, not by the file count.
        table.set_cache_index_and_filter_blocks(True)
        table.set_pin_l0_filter_and_index_blocks_in_cache(True)
        table.set_index_type(rocksdict.BlockBasedIndexType.binary_search())
        options.set_block_based_table_factory(table)
        return options


class SharedMemoryStore(faust_rocksdb.Store):
    """Faust's RocksDB table store, every partition's database in the worker's one budget."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.use_rocksdict:
            raise RuntimeError("the shared RocksDB store needs rocksdict (pip install rocksdict)")
        memory = shared_memory(configured_budget())
        memory.publish()
        # Faust's store has taken its own keys (read_only, driver) out of the options.
        self.rocksdb_options = SharedMemoryOptions(memory, **(self.options or {}))

    def _encode_key(self, key: Any) -> bytes:
        """The stored form of ``key``, in a buffer of its own size.

        Faust's JSON codec is orjson, whose output sits in a 4 KiB buffer
        however short it is; the store keeps the last ``table_key_index_size``
        (1000) keys it touched (its key index, an LRU), so a str-keyed table
        (trending) held 4 MiB of them. Copied, a key costs its length.
        """
        return bytes(memoryview(super()._encode_key(key)))

    def write_changelog_entries(
        self, partition: int, entries: Sequence[tuple[bytes, bytes | None]], offset: int
    ) -> None:
        """Store changelog ``entries`` of ``partition`` and its changelog ``offset``, atomically.

        What Faust's own recovery does entry by entry (a ``None`` value deletes the
        key), as one RocksDB write batch whose last write is the offset: a crash
        keeps all of it or none (:mod:`app.table_restore`).
        """
        batch = rocksdict.WriteBatch(raw_mode=True)
        for key, value in entries:
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
        batch.put(self.offset_key, str(offset).encode())
        self._db_for_partition(partition).write(batch)

    def partition_items(
        self, partition: int, after: bytes | None, limit: int
    ) -> list[tuple[bytes, bytes]]:
        """Up to ``limit`` stored (key, value) pairs of ``partition``, in key order, after ``after``.

        Only a partition whose database this worker has open (its own or a
        standby's) is read; a fresh iterator per call, closed before it
        returns, so no iterator outlives a rebalance that closes the database.
        Faust's own entry (the partition's changelog offset) is not a table entry
        and is never returned.
        """
        db = self._dbs.get(partition)
        if db is None:
            return []
        items: list[tuple[bytes, bytes]] = []
        for key, value in db.items(from_key=after):
            if key == after or key == self.offset_key:
                continue  # the seek lands on ``after`` itself when it is still stored
            items.append((key, value))
            if len(items) == limit:
                break
        return items


STORES.aliases[SCHEME] = f"{__name__}:{SharedMemoryStore.__name__}"
