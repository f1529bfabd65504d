"""The table store: every partition's RocksDB database in the worker's one memory budget.

Real RocksDB databases (rocksdict), opened by Faust's table machinery through
the store the app selects: no broker is needed to open a partition's database.
"""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import faust
import pytest
from faust.types import TP
from prometheus_client import REGISTRY
from rocksdict import Rdict

from app.settings import get_settings
from app.table_store import STORE_URL, SharedMemoryStore, configured_budget, shared_memory

PARTITIONS = 8
CACHE_MB = 8
VALUE = os.urandom(1024)  # incompressible: blocks in the cache are as large as the data


@pytest.fixture
def small_budget(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings giving an 8 MiB cache with 4 MiB of memtables, read afresh."""
    monkeypatch.setenv("ROCKSDB_BLOCK_CACHE_MB", str(CACHE_MB))
    monkeypatch.setenv("ROCKSDB_WRITE_BUFFER_MB", "4")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _partition_databases(tmp_path: Path, table_name: str) -> list[Rdict]:
    """Each partition's database of a fresh table, opened by the app's store."""
    app = faust.App(f"store-{table_name}", store=STORE_URL, datadir=str(tmp_path))
    table = app.Table(table_name, partitions=PARTITIONS, key_type=bytes)
    store = table.data
    assert isinstance(store, SharedMemoryStore)
    return [store._db_for_partition(p) for p in range(PARTITIONS)]


def _fill(db: Rdict, keys: int) -> None:
    for key in range(keys):
        db[b"key-%d" % key] = VALUE
    db.flush()
    for key in range(keys):
        assert db[b"key-%d" % key] == VALUE  # through the block cache


def test_every_partition_database_reports_the_one_shared_cache(
    small_budget: None, tmp_path: Path
) -> None:
    databases = _partition_databases(tmp_path, "shared")
    _fill(databases[0], 2000)  # only the first partition is written and read
    cache = shared_memory(configured_budget()).cache

    capacities = {db.property_int_value("rocksdb.block-cache-capacity") for db in databases}
    usages = {db.property_int_value("rocksdb.block-cache-usage") for db in databases}
    # Faust's own default would be 2 GiB per database; each reports the worker's 8 MiB.
    assert capacities == {CACHE_MB * 1024**2}
    # Seven databases never read a block, yet report the blocks the first one cached.
    assert usages == {cache.get_usage()}
    assert cache.get_usage() > 1024**2
    # And /metrics says so.
    assert REGISTRY.get_sample_value("rocksdb_block_cache_usage_bytes") == cache.get_usage()
    assert REGISTRY.get_sample_value("rocksdb_block_cache_capacity_bytes") == CACHE_MB * 1024**2


def test_the_cache_stays_within_its_capacity_however_many_partitions_fill(
    small_budget: None, tmp_path: Path
) -> None:
    databases = _partition_databases(tmp_path, "ceiling")
    memory = shared_memory(configured_budget())
    usages = []
    for db in databases:  # 4 MiB each: 32 MiB read through an 8 MiB cache
        _fill(db, 4000)
        usages.append(memory.cache.get_usage())
    # Four times the cache went through it; it never held more than its capacity.
    assert max(usages) <= CACHE_MB * 1024**2
    assert min(usages) > 1024**2


def test_the_keys_a_str_keyed_table_remembers_cost_their_length_not_a_json_buffer(
    tmp_path: Path,
) -> None:
    app = faust.App("store-keys", store=STORE_URL, datadir=str(tmp_path))
    store = app.Table("keyed-by-str", partitions=PARTITIONS, key_type=str).data
    assert isinstance(store, SharedMemoryStore)

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        remembered = [store._encode_key(f"{title}:{title % 8}") for title in range(1000)]
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()

    assert remembered[7] == b'"7:7"'
    assert grown < 200 * 1000  # 4 KiB each (orjson's buffer) before; under 100 bytes now


def test_a_partitions_items_are_the_tables_entries_never_fausts_offset_entry(
    tmp_path: Path,
) -> None:
    app = faust.App("store-items", store=STORE_URL, datadir=str(tmp_path))
    store = app.Table("swept", partitions=PARTITIONS, key_type=bytes).data
    assert isinstance(store, SharedMemoryStore)
    db = store._db_for_partition(3)
    db[b"a"] = b"1"
    db[b"b"] = b"2"
    db[store.offset_key] = b"41"  # as Faust writes it after applying changelog entries

    assert store.partition_items(3, None, 10) == [(b"a", b"1"), (b"b", b"2")]
    assert store.partition_items(3, b"a", 10) == [(b"b", b"2")]


def test_changelog_entries_written_in_bulk_apply_tombstones_and_record_their_offset(
    tmp_path: Path,
) -> None:
    app = faust.App("store-bulk", store=STORE_URL, datadir=str(tmp_path))
    table = app.Table("copied", partitions=PARTITIONS, key_type=bytes)
    store = table.data
    assert isinstance(store, SharedMemoryStore)
    store.write_changelog_entries(5, [(b"a", b"1"), (b"b", b"2")], 1)
    store.write_changelog_entries(5, [(b"a", None), (b"c", b"3")], 9)

    assert store.partition_items(5, None, 10) == [(b"b", b"2"), (b"c", b"3")]
    assert store.persisted_offset(TP(table.changelog_topic.get_topic_name(), 5)) == 9
    assert store.partition_items(4, None, 10) == []  # other partitions untouched
