"""``python -m bench.run`` (``make bench``): measure one worker on the real services.

Each run starts one real worker (:class:`bench.worker.BenchWorker`) with a
fresh consumer group on topics of its own, then:

1. **process**: a backlog of ``--n`` valid events is produced before the
   worker starts; ``process_eps`` = events / (last outcome produced - first
   transaction began);
2. **es**: the same worker's logging agents index that backlog's events and
   outcomes; ``es_docs_per_s`` = documents / (all searchable - first built);
3. **ingest**: ``--concurrency`` POSTs always in flight for ``--duration``
   seconds -> ``ingest_rps``; then an open loop at ``--ingest-rate`` req/s ->
   ``ingest_p50_ms`` / ``ingest_p99_ms``, measured from each scheduled start;
4. **e2e**: an open loop at ``--e2e-rate`` req/s, each request timed from its
   scheduled start until its outcome appears on ``response_events`` (read
   directly from Kafka, no status polling);
5. **rss**: the worker's peak RSS (``VmHWM``);
6. **naive**: the one-transaction-per-event baseline (:mod:`bench.naive`)
   over a backlog of the same size -> ``naive_process_eps`` and ``speedup``.

Afterwards the bench's topics, rows, documents and data directory are removed.
The figures are the medians of ``--runs`` runs (see ``bench/results.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from app.api_keys import ALL_SCOPES, key_entry
from app.loadgen.engine import ApiClient, LoadResult, closed_loop, open_loop
from app.loadgen.traffic import Traffic
from app.settings import get_settings
from bench import kafka, postgres, results
from bench.backlog import Backlog, build_backlog, users_needed
from bench.measure import BenchDocuments, peak_rss_mb, percentile
from bench.naive import run_naive
from bench.worker import BenchWorker

REPO_ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = REPO_ROOT / "var" / "bench"
#: The bench key's rate limit: far above anything one client can send.
BENCH_KEY_RATE = 100_000.0
#: The worker roles each topology starts, the HTTP API's first.
ROLES_BY_TOPOLOGY = {"split": ("api", "processing", "logging"), "single": ("all",)}


@dataclass(frozen=True)
class Options:
    """What to measure and how hard."""

    n: int = 100_000
    runs: int = 3
    duration_s: float = 10.0
    concurrency: int = 64
    ingest_rate: float = 1000.0
    e2e_rate: float = 500.0
    users: int = 200
    naive_n: int = 0  # 0: the same as n
    api_key: str = ""
    output: Path = REPO_ROOT / "bench" / "results.json"
    keep: bool = False
    #: ``split``: one process per role (api, processing, logging), as deployed;
    #: ``single``: one process running every stage (``WORKER_ROLE=all``).
    topology: str = "split"

    @property
    def naive_events(self) -> int:
        """Backlog size of the baseline."""
        return self.naive_n or self.n


@dataclass
class RunTopics:
    """The topic names of one run (all under one prefix, so removable together)."""

    prefix: str
    partitions: int = field(default_factory=lambda: get_settings().topic_partitions)

    def name(self, base: str) -> str:
        """``base`` under this run's prefix."""
        return self.prefix + base

    def layout(self) -> dict[str, int]:
        """Every topic to create before the worker starts, with its partition count."""
        names = ("user_events", "response_events", "naive_events", "naive_responses")
        return {self.name(n): self.partitions for n in names} | {self.name("dead_letters"): 1}


@dataclass
class Cleanup:
    """What one run wrote outside Kafka, to remove afterwards."""

    user_ids: list[int] = field(default_factory=list)
    correlation_ids: list[str] = field(default_factory=list)
    document_ids: list[str] = field(default_factory=list)


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- phases


async def _process_phase(backlog: Backlog, watcher: kafka.OutcomeWatcher) -> float:
    """Wait for the worker to drain the backlog; its events per second."""
    await watcher.wait_for(len(backlog.records), timeout_s=120 + len(backlog.records) / 200)
    count, first = postgres.first_applied_at(backlog.correlation_ids)
    if first is None or count < len(backlog.records):
        raise RuntimeError(f"only {count}/{len(backlog.records)} backlog events recorded")
    return len(backlog.records) / (watcher.last_produced_at - first.timestamp())


async def _es_phase(documents: BenchDocuments, expected: int) -> float:
    """Wait until the backlog's documents are searchable; documents per second."""
    deadline = time.monotonic() + 120 + expected / 500
    while (count := await documents.count()) < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {count}/{expected} documents in system_logs")
        await asyncio.sleep(0.25)
    done = time.time()
    return count / (done - await documents.first_logged_at())


async def _settle(watcher: kafka.OutcomeWatcher, expected: int) -> None:
    """Let the worker finish what the last load phase gave it before the next one."""
    await watcher.wait_for(expected, timeout_s=300)


def _e2e_latencies(load: LoadResult, watcher: kafka.OutcomeWatcher) -> list[float]:
    return [
        (watcher.arrivals[cid][0] - due) * 1000
        for cid, due in load.accepted_ids
        if cid in watcher.arrivals
    ]


async def _load_phases(
    options: Options, url: str, watcher: kafka.OutcomeWatcher, cleanup: Cleanup
) -> dict[str, float]:
    """Ingest throughput, ingest latency and end-to-end latency against one worker."""
    traffic = Traffic(options.users)
    loads: dict[str, LoadResult] = {}
    before = watcher.seen

    async def settle() -> None:  # the next phase starts on an idle worker
        accepted = sum(len(load.accepted_ids) for load in loads.values())
        await watcher.wait_for(before + accepted, timeout_s=300)

    async with ApiClient(url, options.api_key) as client:
        _say(f"ingest: {options.concurrency} in flight for {options.duration_s:g}s")
        loads["closed"] = await closed_loop(
            client, traffic, options.concurrency, options.duration_s
        )
        for name, rate in (("ingest", options.ingest_rate), ("e2e", options.e2e_rate)):
            await settle()
            _say(f"{name}: open loop at {rate:g} req/s for {options.duration_s:g}s")
            loads[name] = await open_loop(client, traffic, rate, options.duration_s)
        await settle()
    cleanup.user_ids += traffic.user_ids
    cleanup.correlation_ids += [cid for load in loads.values() for cid, _ in load.accepted_ids]
    return _load_figures(loads, watcher)


def _load_figures(loads: dict[str, LoadResult], watcher: kafka.OutcomeWatcher) -> dict[str, float]:
    for name, load in loads.items():
        if load.errors:
            _say(f"{name}: answers other than 202: {load.errors}")
    e2e = _e2e_latencies(loads["e2e"], watcher)
    return {
        "ingest_rps": loads["closed"].accepted / loads["closed"].elapsed_s,
        "ingest_p50_ms": percentile(loads["ingest"].latencies_ms, 50),
        "ingest_p99_ms": percentile(loads["ingest"].latencies_ms, 99),
        "e2e_p50_ms": percentile(e2e, 50),
        "e2e_p99_ms": percentile(e2e, 99),
    }


# --------------------------------------------------------------------------- one run


def _bench_key_env(api_key: str) -> dict[str, str]:
    """The worker's ``API_KEYS``: the bench key, every scope, no practical rate limit."""
    return {"API_KEYS": json.dumps([key_entry("bench", api_key, ALL_SCOPES, BENCH_KEY_RATE)])}


async def _prepare(options: Options, topics: RunTopics, tag: str) -> tuple[Backlog, Backlog]:
    """Create the run's topics; build and pre-load both backlogs (nothing consumes them yet)."""
    await kafka.create_topics(topics.layout())
    worker_users, naive_users = users_needed(options.n), users_needed(options.naive_events)
    ids = postgres.reserve_user_ids(worker_users + naive_users)
    backlog = build_backlog(options.n, ids[:worker_users], tag)
    naive = build_backlog(options.naive_events, ids[worker_users:], tag + "n")
    await kafka.produce_all(topics.name("user_events"), backlog.records)
    await kafka.produce_all(topics.name("naive_events"), naive.records)
    return backlog, naive


def _workers(options: Options, topics: RunTopics, tag: str) -> list[BenchWorker]:
    """The processes of one deployment; the first one serves the HTTP API."""
    roles = ROLES_BY_TOPOLOGY[options.topology]
    workers = []
    for role in roles:
        worker = BenchWorker(
            WORK_DIR / tag / role,
            topics.prefix,
            APP_ID=tag,
            WORKER_ROLE=role,
            **_bench_key_env(options.api_key),
        )
        # Kept after the run's data directory is removed.
        worker.log_path = WORK_DIR / f"{tag}-{role}.log"
        workers.append(worker)
    return workers


async def _measure_worker(
    options: Options, topics: RunTopics, tag: str, backlog: Backlog, cleanup: Cleanup
) -> dict[str, float]:
    """Start the workers on the pre-loaded backlog; measure them; stop them."""
    watcher = await kafka.OutcomeWatcher(topics.name("response_events"), topics.partitions).start()
    documents = BenchDocuments([topics.name("user_events"), topics.name("response_events")])
    workers = _workers(options, topics, tag)
    try:
        _say(f"{options.topology} worker {tag}: starting on {len(backlog.records)} events")
        # Started together: no process gets a head start on the backlog.
        await asyncio.gather(*(asyncio.to_thread(worker.start) for worker in workers))
        figures = {"process_eps": await _process_phase(backlog, watcher)}
        figures["es_docs_per_s"] = await _es_phase(documents, 2 * len(backlog.records))
        figures |= await _load_phases(options, workers[0].url, watcher, cleanup)
        peaks = [peak_rss_mb(worker.pid) for worker in workers]
        figures["worker_rss_mb"] = max(peaks)
        figures["total_rss_mb"] = sum(peaks)
        return figures
    finally:
        await asyncio.gather(*(asyncio.to_thread(worker.stop) for worker in workers))
        await watcher.stop()
        cleanup.document_ids += [
            topics.name(topic) + ":" + cid
            for topic in ("user_events", "response_events")
            for cid in cleanup.correlation_ids
        ]
        if not options.keep:
            await documents.delete(cleanup.document_ids)
        await documents.close()


async def one_run(options: Options, number: int) -> dict[str, float]:
    """One complete run: worker figures, then the naive baseline; then clean up."""
    tag = f"bench{int(time.time())}r{number}"
    topics = RunTopics(prefix=f"{tag}-")
    cleanup = Cleanup()
    try:
        backlog, naive = await _prepare(options, topics, tag)
        cleanup.user_ids += backlog.user_ids + naive.user_ids
        cleanup.correlation_ids += backlog.correlation_ids + naive.correlation_ids
        figures = await _measure_worker(options, topics, tag, backlog, cleanup)
        _say(f"naive baseline: {len(naive.records)} events, one transaction each")
        figures["naive_process_eps"] = await run_naive(
            topics.name("naive_events"),
            topics.partitions,
            len(naive.records),
            topics.name("naive_responses"),
        )
        figures["speedup"] = figures["process_eps"] / figures["naive_process_eps"]
        return figures
    finally:
        if not options.keep:
            await _clean(tag, topics, cleanup)


async def _clean(tag: str, topics: RunTopics, cleanup: Cleanup) -> None:
    """Remove the run's topics (and the worker's changelogs), rows and data directory."""
    await kafka.delete_topics([topics.prefix, tag + "-"])
    await asyncio.to_thread(postgres.delete_rows, cleanup.user_ids, cleanup.correlation_ids)
    shutil.rmtree(WORK_DIR / tag, ignore_errors=True)


# --------------------------------------------------------------------------- entry point


def parse_options(argv: list[str]) -> Options:
    """Options from the command line (``N`` and ``API_KEY`` from the environment)."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--n",
        type=int,
        default=int(os.environ.get("N", "100000")),
        help="backlog size (events) for the processing figures",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs; figures are their medians")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load phase")
    parser.add_argument("--concurrency", type=int, default=64, help="in-flight POSTs (ingest_rps)")
    parser.add_argument(
        "--ingest-rate", type=float, default=1000.0, help="req/s for ingest latency"
    )
    parser.add_argument("--e2e-rate", type=float, default=500.0, help="req/s for e2e latency")
    parser.add_argument("--users", type=int, default=200, help="people signed up per load run")
    parser.add_argument("--naive-n", type=int, default=0, help="baseline backlog (default: --n)")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("API_KEY", ""),
        help="X-API-Key to send (default: $API_KEY, else a random bench key)",
    )
    parser.add_argument("--output", type=Path, default=Options.output)
    parser.add_argument("--keep", action="store_true", help="keep topics, rows and documents")
    parser.add_argument(
        "--topology",
        choices=sorted(ROLES_BY_TOPOLOGY),
        default=os.environ.get("TOPOLOGY", "split"),
        help="split: a process per role (api, processing, logging); single: one process",
    )
    args = parser.parse_args(argv)
    return Options(
        n=args.n,
        runs=args.runs,
        duration_s=args.duration,
        concurrency=args.concurrency,
        ingest_rate=args.ingest_rate,
        e2e_rate=args.e2e_rate,
        users=args.users,
        naive_n=args.naive_n,
        api_key=args.api_key or "bench_" + secrets.token_urlsafe(24),
        output=args.output,
        keep=args.keep,
        topology=args.topology,
    )


async def bench(options: Options) -> dict[str, float]:
    """Every run, then the medians written to ``options.output``."""
    config = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()}
    config.pop("api_key")
    config["load_average_1m_before"] = os.getloadavg()[0]
    runs = []
    for number in range(1, options.runs + 1):
        _say(f"run {number}/{options.runs}")
        runs.append(await one_run(options, number))
        _say(f"run {number}: " + ", ".join(f"{k}={v:,.1f}" for k, v in runs[-1].items()))
    return results.write(options.output, runs, config)


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print its table."""
    options = parse_options(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    figures = asyncio.run(bench(options))
    print(results.table(figures, options.runs))
    print(f"\nwritten to {options.output} in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
