"""``python -m chaos.soak`` (``make soak``): a long, steady mixed load, sampled every 10 s.

One worker on topics of its own (the chaos scenarios' :class:`~chaos.stage.Stage`)
takes ``--rate`` requests per second for ``--duration`` seconds: sign-ups,
subscriptions, payments, preferences, viewings and sessions mixed the same way
all along (:class:`~demo.loadgen.traffic.SteadyTraffic`), plus status reads of
accepted requests. The worker runs with every retention rule shortened
(:mod:`chaos.soak_retention`, printed at the start) and an event log of its
own (``LOG_INDEX``), so that pruning acts during the run.

Every :data:`SAMPLE_EVERY_S` it samples, from ``/proc``, the resident memory of
the worker, each Kafka node and Elasticsearch, and PostgreSQL's PSS (its
processes summed); what the worker's RocksDB cache holds and its count of
Python's live small objects (its ``/metrics``), to tell the cache filling from
other growth; the consumer group's lag; the p99 latency of the POSTs answered
in the last interval and of their outcomes; what grows on disk; the
rows of every table retention prunes and the indices behind the event log's alias.

Every 202 is audited once, a slice at a time while its evidence is still kept
(:mod:`chaos.rolling_audit`). It draws the samples (``--chart``, default
``docs/soak.png``), writes them as JSON under ``var/soak/`` and checks
(:mod:`chaos.soak_checks`) that every process's memory levels off, the worker
stays under its ceiling (:func:`app.memory_ceiling.memory_ceiling_mb`), lag stays
bounded, the pruned tables and the log's indices stay within what retention
allows, and 0 lost, 0 doubled, every status final.

Exit status 1 when a check fails, keeping the run's topics, event log and worker
files as evidence until the next soak starts. The services must be up (``make up``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from app.memory_ceiling import memory_ceiling_mb
from app.telemetry.process_memory import status_mib
from bench import postgres, progress
from bench.measure import log_index_count, percentile, rss_mb, tree_pss_mb, tree_pss_parts_mb
from chaos.audit import Verdict
from chaos.faults import ChaosWorker, stack_tool
from chaos.rolling_audit import AuditPace, RollingAudit
from chaos.run import table
from chaos.soak_census import SoakCensus
from chaos.soak_chart import draw
from chaos.soak_checks import LAG_LIMIT_S, Bounds, Sample, judge, part_slopes
from chaos.soak_retention import (
    SoakRetention,
    check_audit_fits,
    evidence_kept_s,
    index_bound,
    row_bound,
)
from chaos.stage import (
    ADMIN_KEY,
    SIGNUP_SHARE,
    WORK_DIR,
    Options,
    Row,
    Stage,
    describe,
    forget_runs,
)
from demo.loadgen.traffic import VIEWING_MIX, SteadyTraffic
from harness.workers import REPO_ROOT
from stack.config import load_settings

SAMPLE_EVERY_S = 10.0
DEFAULT_DURATION_S = 600.0
DEFAULT_RATE = 50.0
#: Status reads per POST, of requests accepted earlier.
READS_PER_POST = 0.5
DEFAULT_CHART = REPO_ROOT / "docs" / "soak.png"
#: How long the audit of one slice (and of the remainder) may wait for it to converge.
AUDIT_TIMEOUT_S = 300.0
#: What every soak's names start with: its topics, event log and working files.
RUN_NAME = "soak"


def service_pids() -> dict[str, int]:
    """The pid of each service's server process, named as in the chart."""
    nodes = load_settings().kafka_brokers
    kafka_names = ["kafka"] if nodes == 1 else [f"kafka-{i}" for i in range(1, nodes + 1)]
    names = [*kafka_names, "postgresql", "elasticsearch"]
    return {name: int(stack_tool("pid", name).strip()) for name in names}


def memory(worker: ChaosWorker, services: dict[str, int]) -> dict[str, float]:
    """RSS in MiB of the worker and each service; PostgreSQL's PSS, its processes summed.

    An RSS sum over PostgreSQL's processes counts its shared buffers once per
    process that touched them: it climbs as backends touch more pages, no leak.
    """
    found = {"worker": rss_mb(worker.pid)}
    for name, pid in services.items():
        found[name] = tree_pss_mb(pid) if name == "postgresql" else rss_mb(pid)
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

    async def run(self) -> None:
        """Sample until cancelled."""
        while True:
            await asyncio.sleep(SAMPLE_EVERY_S)
            self.samples.append(await self.sample())

    async def sample(self) -> Sample:
        """One sample of the last :data:`SAMPLE_EVERY_S`."""
        now = asyncio.get_running_loop().time()
        lag = await progress.pipeline_lag(self.stage.app_id, self.stage.topic)
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
        return Sample(
            round(now - self.began, 1),
            memory(self.worker, self.services),
            lag,
            _p99(post_ms),
            _p99(outcome_ms),
            disk,
            await asyncio.to_thread(postgres.pruned_table_rows),
            await log_index_count(self.stage.log_alias),
            *await worker_gauges(self.worker),
            files_mb(self.worker.pid),
            service_parts(self.services),
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


async def read_statuses(stage: Stage, url: str, rate: float) -> None:
    """GET the status of random accepted requests at ``rate`` per second, until cancelled.

    aiohttp, like the load: this client runs beside the measured worker.
    """
    headers = {"X-API-Key": ADMIN_KEY}
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(url, headers=headers, timeout=timeout) as http:
        while True:
            await asyncio.sleep(1 / rate)
            answers = stage.client.answers if stage.client else []
            if answers and (answer := random.choice(answers)).status == 202 and answer.body:
                async with http.get(f"/status/{answer.body['correlation_id']}") as read:
                    await read.read()


def bounds(retention: SoakRetention, rate: float) -> Bounds:
    """What the run's settings allow: lag, the worker's memory ceiling, rows, indices."""
    return Bounds(
        int(rate * LAG_LIMIT_S),
        memory_ceiling_mb(retention.settings, rate),
        row_bound(retention, rate),
        index_bound(retention),
    )


async def soak(
    duration_s: float, rate: float, retention: SoakRetention, pace: AuditPace
) -> tuple[Row, list[Sample]]:
    """Run the load, sample it, audit it as it goes."""
    forgotten = await forget_runs(RUN_NAME)
    if forgotten:
        print(f"cleared what earlier soaks kept ({len(forgotten)} indices, topics and files)")
    tag = f"{RUN_NAME}{int(time.time())}"
    options = Options(n=int(duration_s * rate), audit_timeout_s=AUDIT_TIMEOUT_S, tag=tag)
    census = SoakCensus(WORK_DIR / f"{tag}-census")
    env = {**retention.env, "LOG_INDEX": f"{tag}-log", **census.worker_env()}
    stage = Stage(options, 0, worker_env=env, topic_config=retention.topic_config())
    async with stage:
        worker = await stage.start(stage.worker("a"))
        sampler = Sampler(stage, worker)
        users = int(options.n * SIGNUP_SHARE) + 1
        traffic = SteadyTraffic(users, SIGNUP_SHARE, mix=VIEWING_MIX)
        load = asyncio.create_task(stage.load([worker.url], duration_s, _no_fault, traffic=traffic))
        await asyncio.sleep(0)  # the load has made the stage's client
        assert stage.client is not None
        rolling = RollingAudit(stage.target(worker), stage.client.answers, pace, AUDIT_TIMEOUT_S)
        slices = asyncio.create_task(rolling.run())
        background = [
            asyncio.create_task(sampler.run()),
            asyncio.create_task(read_statuses(stage, worker.url, rate * READS_PER_POST)),
            asyncio.create_task(census.run(lambda: worker.pid, duration_s)),
        ]
        try:
            await load
        finally:
            for task in background:
                task.cancel()
            rolling.stop()  # the slice under audit finishes
            background.append(slices)
            await asyncio.gather(*background, return_exceptions=True)
        for task in background:  # a sampler, reader or audit that died must not pass unseen
            if not task.cancelled() and task.exception() is not None:
                raise RuntimeError("soak background task failed") from task.exception()
        verdict = await rolling.finish()
        samples = sampler.samples
        row = _row(verdict, samples, rate, duration_s, bounds(retention, rate), len(rolling.parts))
        grown = await _census_summary(census)
        if grown:
            row.notes.append(grown)
        _judge_audit_pace(row, rolling.oldest_age_s, evidence_kept_s(retention))
        if row.passed:
            await stage.clean()
    return row, samples


async def _census_summary(census: SoakCensus, wait_s: float = 30.0) -> str | None:
    """The censuses' summary, once the last one is written (it holds the worker seconds)."""
    for _ in range(int(wait_s)):
        summary = census.summary()
        if summary is not None:
            return summary
        await asyncio.sleep(1)
    return None


async def _no_fault() -> None:
    return None


def _judge_audit_pace(row: Row, oldest_age_s: float, kept_s: float) -> None:
    """A request audited after its evidence may have gone would read as lost: say so apart."""
    row.notes.append(
        f"oldest request when audited {oldest_age_s:.0f}s (evidence kept {kept_s:.0f}s)"
    )
    row.checks[f"every request audited while its evidence was kept ({kept_s:.0f}s)"] = (
        oldest_age_s < kept_s
    )


def worker_memory_parts(first: Sample, last: Sample, peak: Sample) -> str:
    """The worker's RSS at the start, the end and its peak, split by what holds it.

    Mapped files, jemalloc's resident memory (RocksDB's cache within it), and the rest of
    the anonymous memory: pymalloc's arenas and the threads' stacks.
    """

    def parts(sample: Sample) -> str:
        rss = sample.rss_mb.get("worker", 0.0)
        split = [f"{rss:.0f}"]
        if sample.worker_files_mb is not None and sample.worker_jemalloc_mb is not None:
            python = rss - sample.worker_files_mb - sample.worker_jemalloc_mb
            split.append(
                f" = files {sample.worker_files_mb:.0f} + jemalloc {sample.worker_jemalloc_mb:.0f}"
                f" + Python's arenas and stacks {python:.0f}"
            )
        if sample.worker_rocksdb_mb is not None:
            split.append(f"; RocksDB cache {sample.worker_rocksdb_mb:.0f}")
        if sample.worker_python_kblocks is not None:
            split.append(f", Python {sample.worker_python_kblocks:.0f}k blocks")
        return "".join(split)

    return "worker MiB " + "; ".join(
        f"at {s.t:.0f}s{' (peak)' if s is peak else ''}: {parts(s)}" for s in (first, peak, last)
    )


def service_memory_parts(samples: list[Sample]) -> str:
    """Each service's PSS parts at the start and the end, and their slopes over the 2nd half."""
    first, last = samples[0].service_parts_mb, samples[-1].service_parts_mb
    slopes = part_slopes(samples)
    return "services' PSS MiB, start -> end (2nd half MiB/min): " + "; ".join(
        f"{service} "
        + ", ".join(
            f"{part} {first.get(service, {}).get(part, 0.0):.0f} -> {mib:.0f} ({slopes[service][part]:+.3f})"
            for part, mib in parts.items()
        )
        for service, parts in last.items()
        if service in slopes
    )


def _row(
    verdict: Verdict,
    samples: list[Sample],
    rate: float,
    duration_s: float,
    limits: Bounds,
    slices: int,
) -> Row:
    verdicts = judge(samples, limits)
    notes = [
        f"{duration_s:g}s at {rate:g} req/s, {len(samples)} samples, audited in {slices} slices",
        "memory slope over the 2nd half (MiB/min): "
        + ", ".join(f"{k} {v:+.3f}" for k, v in verdicts.slopes.items()),
        f"worker RSS max {verdicts.worker_max_mb:.0f} MiB (ceiling {limits.ceiling_mb:.0f})",
        f"lag max {verdicts.lag_max} after the warm-up",
    ]
    if samples:
        rows = ", ".join(
            f"{t} {max(s.rows.get(t, 0) for s in samples)}/{samples[-1].rows.get(t, 0)}"
            for t in samples[-1].rows
        )
        notes.append(f"rows max/at the end: {rows} (bound {limits.rows})")
        indices = f"{max(s.log_indices for s in samples)}/{samples[-1].log_indices}"
        notes.append(f"log indices max/at the end {indices} (bound {limits.indices})")
        notes.append(
            "memory at the end: " + ", ".join(f"{k} {v:.0f}" for k, v in samples[-1].rss_mb.items())
        )
        peak = max(samples, key=lambda sample: sample.rss_mb.get("worker", 0.0))
        notes.append(worker_memory_parts(samples[0], samples[-1], peak))
        notes.append(service_memory_parts(samples))
    row = Row("soak", verdict, None, notes)
    row.checks.update(verdicts.checks())
    return row


def main(argv: list[str] | None = None) -> int:
    """Soak, print the table, write the samples and the chart; exit 1 when a check fails."""
    parser = argparse.ArgumentParser(
        prog="python -m chaos.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S, help="seconds")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="POSTs per second")
    parser.add_argument("--chart", type=Path, default=DEFAULT_CHART, help="PNG to write")
    parser.add_argument(
        "--audit-every", type=float, default=AuditPace.every_s, help="seconds between slices"
    )
    parser.add_argument(
        "--audit-lag",
        type=float,
        default=AuditPace.lag_s,
        help="seconds a slice's last request has had to settle when it is audited",
    )
    args = parser.parse_args(argv)
    retention = SoakRetention.from_environment()
    pace = AuditPace(args.audit_every, args.audit_lag)
    try:
        check_audit_fits(retention, pace.lag_s, pace.every_s)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"soak retention: {retention.describe()}")
    print(f"rolling audit: a slice every {pace.every_s:g}s, {pace.lag_s:g}s after its last request")
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    row, samples = asyncio.run(soak(args.duration, args.rate, retention, pace))
    print(table([row]))
    out = REPO_ROOT / "var" / "soak" / f"soak-{int(time.time())}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "row": describe(row),
        "retention": dict(retention.env),
        "samples": [asdict(s) for s in samples],
    }
    out.write_text(json.dumps(record))
    if samples:
        title = f"make soak: {args.duration / 60:.0f} min at {args.rate:g} req/s, one worker"
        draw(samples, args.chart, title)
        print(f"samples in {out}, chart in {args.chart}")
    return 0 if row.passed else 1


if __name__ == "__main__":
    sys.exit(main())
