"""``python -m bench.table_memory``: what the tables' RocksDB costs in memory, against its budget.

Opens ``--tables`` x ``--partitions`` databases through the app's table store
(:mod:`app.table_store`, the worker's one block cache and write-buffer budget)
with the tables' own options (:mod:`tables.routable`),
writes ``--mib`` MiB of incompressible values into each, flushes, reads every
value back twice, and prints this process's resident memory at each step next
to the shared cache's usage: the growth RocksDB causes, whatever the partition
count, should stay near ``ROCKSDB_BLOCK_CACHE_MB`` (docs/operations.md).
No service is needed; the databases live in a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator

import faust
from rocksdict import Rdict

from app.settings import get_settings
from app.table_store import STORE_URL, SharedMemoryStore, configured_budget, shared_memory
from app.telemetry.process_memory import status_mib
from tables.routable import ROCKSDB_OPTIONS

MIB = 1024**2
VALUE_BYTES = 1024


def rss_mib() -> float:
    """Resident memory of this process, MiB."""
    return status_mib("self", "VmRSS")


def open_databases(datadir: str, tables: int, partitions: int) -> list[Rdict]:
    """Every partition's database of ``tables`` tables, opened by the app's store."""
    app = faust.App("table-memory", store=STORE_URL, datadir=datadir)
    databases = []
    for number in range(tables):
        table = app.Table(
            f"table{number}", partitions=partitions, key_type=bytes, options=dict(ROCKSDB_OPTIONS)
        )
        store = table.data
        assert isinstance(store, SharedMemoryStore)
        databases += [store._db_for_partition(p) for p in range(partitions)]
    return databases


def keys(count: int) -> Iterator[bytes]:
    """The keys a database is filled with."""
    return (b"key-%09d" % n for n in range(count))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=4)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--mib", type=int, default=16, help="MiB written per database")
    args = parser.parse_args(argv)
    settings = get_settings()
    memory = shared_memory(configured_budget())
    per_db = args.mib * MIB // VALUE_BYTES
    print(
        f"budget: cache {settings.rocksdb_block_cache_mb} MiB, of it memtables "
        f"{settings.rocksdb_write_buffer_mb} MiB"
    )
    steps = [("start", rss_mib())]
    with tempfile.TemporaryDirectory() as datadir:
        databases = open_databases(datadir, args.tables, args.partitions)
        steps.append((f"{len(databases)} databases open", rss_mib()))
        for db in databases:
            for key in keys(per_db):
                db[key] = os.urandom(VALUE_BYTES)
        steps.append((f"{len(databases) * args.mib} MiB written", rss_mib()))
        for db in databases:
            db.flush()
        for _ in range(2):
            for db in databases:
                for key in keys(per_db):
                    db.get(key)
        steps.append(("flushed, everything read twice", rss_mib()))
        usage = memory.cache.get_usage() / MIB
        for db in databases:
            db.close()
    for step, rss in steps:
        print(f"{step:<32} RSS {rss:7.1f} MiB  (+{rss - steps[0][1]:.1f})")
    print(f"cache usage at the end {usage:.1f} MiB")


if __name__ == "__main__":
    main()
