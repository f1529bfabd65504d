"""The soak reads the worker's RocksDB cache and Python heap from its Prometheus exposition."""

from __future__ import annotations

from chaos.soak import CACHE_GAUGE, PYTHON_GAUGE, gauge

EXPOSITION = """\
# HELP rocksdb_block_cache_capacity_bytes The block cache's capacity
# TYPE rocksdb_block_cache_capacity_bytes gauge
rocksdb_block_cache_capacity_bytes 6.7108864e+07
rocksdb_block_cache_usage_bytes 4.194304e+06
rocksdb_block_cache_usage_bytes_total_bogus 9.9e+09
python_allocated_blocks 412345.0
"""


def test_each_gauge_is_read_by_its_exact_name_not_a_longer_one_sharing_its_prefix() -> None:
    assert gauge(EXPOSITION, CACHE_GAUGE) == 4 * 1024**2
    assert gauge(EXPOSITION, PYTHON_GAUGE) == 412_345


def test_a_gauge_the_worker_does_not_expose_reads_as_unknown() -> None:
    assert gauge("# nothing here\n", CACHE_GAUGE) is None
