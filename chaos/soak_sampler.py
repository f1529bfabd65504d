"""What the soak samples every :data:`SAMPLE_EVERY_S`: memory, lag, latency, disk, pruned stores.

From ``/proc``: the resident memory of the worker, each Kafka node and
Elasticsearch, and PostgreSQL's PSS (its processes summed), with each
service's PSS split by what backs it; from the worker's ``/metrics``: its
RocksDB cache, Python's live small objects and jemalloc's resident memory;
the agents' lag (in records, and in seconds of their input); the p99 latency
of the POSTs answered in the last interval and of their outcomes; what grows
on disk; the rows of every table retention prunes and the indices behind the
event log's alias.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from app.telemetry.process_memory import status_mib
from bench import postgres, progress
from bench.measure import log_index_count, percentile, rss_mb, tree_pss_parts_mb
from chaos.faults import ChaosWorker, stack_tool
from chaos.soak_checks import Sample, furthest_behind_s
from chaos.stage import ADMIN_KEY, Stage
from stack.config import load_settings

SAMPLE_EVERY_S = 10.0


def service_pids() -> dict[str, int]:
    """The pid of each service's server process, named as in the chart."""
    nodes = load_settings().kafka_brokers
    kafka_names = ["kafka"] if nodes == 1 else [f"kafka-{i}" for i in range(1, nodes + 1)]
    names = [*kafka_names, "postgresql", "elasticsearch"]
    return {name: int(stack_tool("pid", name).strip()) for name in names}


def memory(
    worker: ChaosWorker, services: dict[str, int], parts: dict[str, dict[str, float]]
) -> dict[str, float]:
    """RSS in MiB of the worker and each service; PostgreSQL's PSS, its processes summed.

    An RSS sum over PostgreSQL's processes counts its shared buffers once per
    process that touched them: it climbs as backends touch more pages, no leak.
    Its PSS is the sum of its ``parts`` (:func:`service_parts`), read once per sample.
    """
    found = {"worker": rss_mb(worker.pid)}
    for name, pid in services.items():
        found[name] = sum(parts[name].values()) if name == "postgresql" else rss_mb(pid)
    return found


def service_parts(services: dict[str, int]) -> dict[str, dict[str, float]]:
    """Each service's PSS, its processes summed, by what backs it: which part grows."""
    return {name: tree_pss_parts_mb(pid) for name, pid in services.items()}


#: The worker's gauges sampled: its one RocksDB block cache, memtables included
#: (app/table_store.py), Python's live small objects, and what jemalloc holds resident
#: (web/monitoring.py).
CACHE_GAUGE = "rocksdb_block_cache_usage_bytes"
PYTHON_GAUGE = "python_allocated_blocks"
JEMALLOC_GAUGE = "jemalloc_bytes"
JEMALLOC_RESIDENT = {"kind": "resident"}


def gauge(exposition: str, name: str, labels: dict[str, str] | None = None) -> float | None:
    """The value of gauge ``name`` with exactly ``labels`` (none by default) in ``exposition``."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and sample.labels == (labels or {}):
                return sample.value
    return None


async def worker_gauges(worker: ChaosWorker) -> tuple[float | None, float | None, float | None]:
    """The worker's RocksDB cache (MiB), Python's blocks (thousands), jemalloc's resident (MiB).

    ``None`` for what the worker did not tell.
    """
    timeout = aiohttp.ClientTimeout(total=5)
    try:
        async with (
            aiohttp.ClientSession(headers={"X-API-Key": ADMIN_KEY}, timeout=timeout) as http,
            http.get(f"{worker.url}/metrics") as answer,
        ):
            exposition = await answer.text()
    except (TimeoutError, aiohttp.ClientError):
        return None, None, None
    cache, blocks = gauge(exposition, CACHE_GAUGE), gauge(exposition, PYTHON_GAUGE)
    jemalloc = gauge(exposition, JEMALLOC_GAUGE, JEMALLOC_RESIDENT)
    return (
        None if cache is None else cache / 1024**2,
        None if blocks is None else blocks / 1000,
        None if jemalloc is None else jemalloc / 1024**2,
    )


def files_mb(pid: int) -> float | None:
    """The part of ``pid``'s RSS backed by mapped files (libraries), in MiB."""
    try:
        return status_mib(pid, "RssFile")
    except (OSError, RuntimeError):  # the worker has exited
        return None


def directory_mb(path: Path) -> float:
    """Bytes under ``path``, in MiB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024**2


class Sampler:
    """Takes a :class:`Sample` every :data:`SAMPLE_EVERY_S` while the load runs."""

    def __init__(self, stage: Stage, worker: ChaosWorker) -> None:
        self.stage = stage
        self.worker = worker
        self.services = service_pids()
        self.samples: list[Sample] = []
        self.began = asyncio.get_running_loop().time()
        #: When the stream was first read, and what each group had to read by then.
        self._first_read: tuple[float, dict[str, int]] | None = None

    async def run(self) -> None:
        """Sample until cancelled."""
        while True:
            await asyncio.sleep(SAMPLE_EVERY_S)
            self.samples.append(await self.sample())

    async def sample(self) -> Sample:
        """One sample of the last :data:`SAMPLE_EVERY_S`."""
        now = asyncio.get_running_loop().time()
        backlogs = await progress.pipeline_backlogs(self.stage.app_id, self.stage.topic)
        if self._first_read is None:
            self._first_read = (now, {group: b.written for group, b in backlogs.items()})
        disk = {
            "worker data dir": directory_mb(self.worker.data_dir),
            # The status table's RocksDB files: a proxy for its entries (drawn, not judged:
            # expired statuses leave as tombstones until RocksDB compacts them).
            "status table": sum(
                directory_mb(d) for d in self.worker.data_dir.rglob("correlation_status-*.db")
            ),
            "postgresql db": await asyncio.to_thread(postgres.database_size_mb),
        }
        post_ms, outcome_ms = self._latencies(now - SAMPLE_EVERY_S, now)
        parts = service_parts(self.services)
        return Sample(
            round(now - self.began, 1),
            memory(self.worker, self.services, parts),
            sum(b.behind for b in backlogs.values()),
            _p99(post_ms),
            _p99(outcome_ms),
            disk,
            await asyncio.to_thread(postgres.pruned_table_rows),
            await log_index_count(self.stage.log_alias),
            *await worker_gauges(self.worker),
            files_mb(self.worker.pid),
            parts,
            furthest_behind_s(backlogs, self._first_read, now),
        )

    def _latencies(self, since: float, until: float) -> tuple[list[float], list[float]]:
        """POST latencies, and accepted -> outcome latencies, of answers in ``[since, until)``."""
        assert self.stage.client is not None and self.stage.watcher is not None
        arrivals = self.stage.watcher.arrivals
        post_ms, outcome_ms = [], []
        for answer in self.stage.client.answers:
            if not since <= answer.ended < until:
                continue
            post_ms.append((answer.ended - answer.started) * 1000)
            if answer.status == 202 and answer.body is not None:
                arrived = arrivals.get(answer.body["correlation_id"])
                if arrived is not None:
                    outcome_ms.append((arrived[0] - answer.started) * 1000)
        return post_ms, outcome_ms


def _p99(values: list[float]) -> float | None:
    return round(percentile(values, 99), 1) if values else None
