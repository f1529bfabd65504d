"""The soak reads the worker's RocksDB cache, Python heap and jemalloc from its Prometheus
exposition, and splits its RSS by what holds it."""

from __future__ import annotations

from chaos.soak import service_memory_parts, worker_memory_parts
from chaos.soak_checks import Sample
from chaos.soak_sampler import (
    CACHE_GAUGE,
    JEMALLOC_GAUGE,
    JEMALLOC_RESIDENT,
    PYTHON_GAUGE,
    gauge,
)

EXPOSITION = """\
# HELP rocksdb_block_cache_capacity_bytes The block cache's capacity
# TYPE rocksdb_block_cache_capacity_bytes gauge
rocksdb_block_cache_capacity_bytes 6.7108864e+07
rocksdb_block_cache_usage_bytes 4.194304e+06
rocksdb_block_cache_usage_bytes_total_bogus 9.9e+09
python_allocated_blocks 412345.0
jemalloc_bytes{kind="allocated"} 1.2e+08
jemalloc_bytes{kind="resident"} 1.4e+08
"""


def test_each_gauge_is_read_by_its_exact_name_not_a_longer_one_sharing_its_prefix() -> None:
    assert gauge(EXPOSITION, CACHE_GAUGE) == 4 * 1024**2
    assert gauge(EXPOSITION, PYTHON_GAUGE) == 412_345


def test_a_gauge_the_worker_does_not_expose_reads_as_unknown() -> None:
    assert gauge("# nothing here\n", CACHE_GAUGE) is None


def test_a_labelled_gauge_is_read_by_its_labels() -> None:
    assert gauge(EXPOSITION, JEMALLOC_GAUGE, JEMALLOC_RESIDENT) == 1.4e8
    assert gauge(EXPOSITION, JEMALLOC_GAUGE) is None  # no unlabelled sample of that name


def test_the_report_splits_the_workers_peak_into_files_jemalloc_and_pythons_arenas() -> None:
    def sample(t: float, rss: float, jemalloc: float | None) -> Sample:
        return Sample(t, {"worker": rss}, 0, None, None, {}, {}, 0, 60.0, 700.0, jemalloc, 40.0)

    first, peak, last = sample(10, 150, 60), sample(20, 250, 140), sample(30, 240, None)
    report = worker_memory_parts(first, last, peak)

    assert "at 20s (peak): 250 = files 40 + jemalloc 140 + Python's arenas and stacks 70" in report
    assert "at 30s: 240; RocksDB cache 60, Python 700k blocks" in report


def test_the_report_names_the_part_of_each_services_memory_that_grew_over_the_second_half() -> None:
    def sample(minute: int) -> Sample:
        parts = {"kafka": {"anonymous": 600.0, "files": 30.0 + minute, "shared": 0.0}}
        return Sample(minute * 60.0, {}, 0, None, None, {}, service_parts_mb=parts)

    report = service_memory_parts([sample(minute) for minute in range(10)])

    assert "kafka anonymous 600 -> 600 (+0.000), files 30 -> 39 (+1.000), shared 0" in report
