"""``python -m bench.runner`` (``make bench``): measure the workers on the real services.

Each run starts real workers (:class:`harness.workers.PrefixedWorker`), each with a
fresh consumer group on topics of its own, follows the CPU time of every
process (workers, Kafka, PostgreSQL, Elasticsearch; :mod:`bench.cpu`), then:

1. **solo** (:mod:`bench.solo`): each stage alone on a pre-loaded backlog:
   ``process_alone_eps``, ``viewing_eps``, ``es_alone_docs_per_s``;
2. **pipeline**: every role started together on a backlog of ``--n`` events:
   ``process_eps`` = events / (last outcome produced - first transaction
   began), and ``es_docs_per_s`` for the same backlog's events and outcomes;
3. **load** (:mod:`bench.load`) on the same workers: ingest throughput and
   latency, end-to-end latency, CPU per request at a steady rate, the
   sustained end-to-end rate, the trending lag;
4. **rss**: the workers' peak RSS (``VmHWM``);
5. **naive**: the one-transaction-per-event baseline (:mod:`bench.naive`)
   over a backlog of the same size -> ``naive_process_eps``, ``speedup`` (processing
   alone against it) and ``speedup_pipeline`` (processing in the pipeline against it).
6. **sealing** (:mod:`bench.sealing_cost`): the CPU a sign-up's sealed personal
   fields add, at the API and in the agent -> ``sealing_us_per_signup``.

Every phase charges the CPU each process used in its window to what it did:
the CPU budget, in microseconds per event (``bench/results.json``, ``cpu_us``).
Afterwards the bench's topics, rows, documents and data directories are removed.
The figures are the medians of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

from app.settings import get_settings
from bench import drain, postgres, progress, results
from bench.backlog import Backlog, build_backlog, users_needed
from bench.context import (
    PHASES,
    ROLES_BY_TOPOLOGY,
    WORK_DIR,
    Options,
    Run,
    env_int,
    say,
    stop_all,
)
from bench.cpu import CLIENT, CpuSampler, service_pids
from bench.load import Pipeline, load_phases
from bench.measure import BenchDocuments, peak_rss_mb
from bench.naive import run_naive
from bench.sealing_cost import sealing_us_per_signup
from bench.solo import SOLO, VIEWING, solo_phases
from bench.viewing_load import build_viewing_backlog
from harness import broker
from harness.services import started_database


class Backlogs:
    """The events a run pre-loads: the pipeline's, the solo phases', the baseline's."""

    def __init__(self, options: Options, tag: str) -> None:
        n = options.n
        sizes = {"pipeline": n, SOLO: n, "naive": options.naive_events}
        counts = [users_needed(size) for size in sizes.values()]
        ids = postgres.reserve_user_ids(sum(counts))
        self.of: dict[str, Backlog] = {}
        for (name, size), count in zip(sizes.items(), counts, strict=True):
            self.of[name] = build_backlog(size, ids[:count], tag + name[0])
            ids = ids[count:]
        self.of[VIEWING] = build_viewing_backlog(options.viewing_events, self.of[SOLO].user_ids)

    @property
    def all(self) -> list[Backlog]:
        """Every backlog (for cleaning up)."""
        return list(self.of.values())


async def _prepare(run: Run) -> Backlogs:
    """Create the run's topics; build and pre-load every backlog (nothing consumes them yet)."""
    main, solo, viewing = run.topics(), run.topics(SOLO), run.topics(VIEWING)
    naive = {main.name(n): main.partitions for n in ("naive_events", "naive_responses")}
    await broker.create_topics(main.layout() | solo.layout() | viewing.layout() | naive)
    backlogs = Backlogs(run.options, run.tag)
    for backlog in backlogs.all:
        run.cleanup.user_ids += backlog.user_ids
        run.cleanup.correlation_ids += backlog.correlation_ids
    await broker.produce_all(main.name("user_events"), backlogs.of["pipeline"].records)
    await broker.produce_all(solo.name("user_events"), backlogs.of[SOLO].records)
    await broker.produce_all(viewing.name("viewing_events"), backlogs.of[VIEWING].records)
    await broker.produce_all(main.name("naive_events"), backlogs.of["naive"].records)
    return backlogs


async def _pipeline_phases(run: Run, backlog: Backlog) -> dict[str, float]:
    """Start every role together on the backlog; measure it, then the load; stop them."""
    topics = run.topics()
    watcher = await progress.OutcomeWatcher(
        topics.name("response_events"), topics.partitions
    ).start()
    documents = BenchDocuments([topics.name("user_events"), topics.name("response_events")])
    roles = ROLES_BY_TOPOLOGY[run.options.topology]
    workers = [(role, run.worker(role)) for role in roles]
    try:
        say(f"{run.options.topology} pipeline: starting on {len(backlog.records)} events")
        await run.start(workers)  # together: no process gets a head start on the backlog
        n = len(backlog.records)
        processed = await drain.applied(backlog.correlation_ids, watcher, n)
        figures = {"process_eps": drain.rate(n, processed)}
        logged = await drain.indexed(documents, 2 * n)
        figures["es_docs_per_s"] = drain.rate(2 * n, logged)
        # The window ends once every stage is done, the status table's agent too.
        statuses = drain.StatusAgent(
            f"{run.tag}-{roles[0]}" if roles[0] != "all" else run.tag,
            topics.name("response_events"),
        )
        recorded = await statuses.caught_up(timeout_s=120 + n / 200)
        await drain.let_sampler_pass()
        run.charge("pipeline", processed[0], max(logged[1], recorded), n)
        pipeline = Pipeline(run, workers[0][1].url, watcher, documents, statuses, due=n)
        figures |= await load_phases(pipeline, topics, await _viewers(backlog.user_ids))
        peaks = [peak_rss_mb(worker.pid) for _, worker in workers]
        return figures | {"worker_rss_mb": max(peaks), "total_rss_mb": sum(peaks)}
    finally:
        await stop_all([worker for _, worker in workers])
        await watcher.stop()
        await documents.close()


async def _naive_phase(run: Run, backlog: Backlog) -> dict[str, float]:
    topics = run.topics()
    say(f"naive baseline: {len(backlog.records)} events, one transaction each")
    eps = await run_naive(
        topics.name("naive_events"),
        topics.partitions,
        len(backlog.records),
        topics.name("naive_responses"),
    )
    return {"naive_process_eps": eps}


async def one_run(options: Options, number: int) -> tuple[dict[str, float], Run]:
    """One complete run: every phase asked for; then clean up."""
    cpu = CpuSampler().start()
    cpu.add(CLIENT, os.getpid(), tree=False)
    for name, pids in service_pids().items():
        cpu.add(name, *pids)
    run = Run(f"bench{int(time.time())}r{number}", options, cpu)
    figures: dict[str, float] = {}
    try:
        backlogs = await _prepare(run)
        if "solo" in options.only:
            figures |= await solo_phases(run, backlogs.of[SOLO], backlogs.of[VIEWING])
        if "pipeline" in options.only:
            figures |= await _pipeline_phases(run, backlogs.of["pipeline"])
        if "naive" in options.only:
            figures |= await _naive_phase(run, backlogs.of["naive"])
        figures |= _speedups(figures)
        figures["sealing_us_per_signup"] = sealing_us_per_signup()["sealing_us_per_signup"]
        return figures, run
    finally:
        cpu.stop()
        if not options.keep:
            await _clean(run)


def _speedups(figures: dict[str, float]) -> dict[str, float]:
    """Processing against the baseline: alone against alone, and in the pipeline.

    The baseline runs with the machine to itself, as the solo processing worker
    does: ``speedup`` compares those two; ``speedup_pipeline`` the processing
    that shares the machine with every other stage.
    """
    naive = figures.get("naive_process_eps")
    if not naive:
        return {}
    found = {}
    if "process_alone_eps" in figures:
        found["speedup"] = figures["process_alone_eps"] / naive
    if "process_eps" in figures:
        found["speedup_pipeline"] = figures["process_eps"] / naive
    return found


async def _viewers(user_ids: list[int]) -> list[int]:
    """The backlog's people whose sign-up applied: trending counts only their viewings.

    A sign-up is refused when its random CPF is already taken, which a database
    holding other runs' people makes likely enough (one in about 1,300 on a
    stack left with 770,000 soak users): its viewing then answers 202 and is
    refused, and a trending count waiting for every accepted viewing never
    reaches it.
    """
    async with started_database(get_settings().postgres_dsn) as database:
        existing = sorted(await database.existing_users(user_ids))
    if refused := len(user_ids) - len(existing):
        say(f"{refused} of the backlog's {len(user_ids)} sign-ups were refused; not viewers")
    return existing


async def _clean(run: Run) -> None:
    """Remove the run's topics (and the workers' changelogs), rows, documents, data directories."""
    await broker.delete_topics([run.tag])
    documents = BenchDocuments([])
    try:
        await documents.delete_run([run.tag])
    finally:
        await documents.close()
    cleanup = run.cleanup
    await asyncio.to_thread(postgres.delete_rows, cleanup.user_ids, cleanup.correlation_ids)
    for suffix in ("", SOLO, VIEWING):
        shutil.rmtree(WORK_DIR / (run.tag + suffix), ignore_errors=True)


# --------------------------------------------------------------------------- entry point


def _rates(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split(",") if part.strip())


def _phases(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    if unknown := set(chosen) - set(PHASES):
        raise argparse.ArgumentTypeError(f"unknown phases {sorted(unknown)}; known: {PHASES}")
    return chosen


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.runner", description=__doc__.split("\n")[0]
    )
    add = parser.add_argument
    add("--n", type=int, default=env_int("N", 100_000), help="backlog size (events)")
    add("--runs", type=int, default=3, help="runs; figures are their medians")
    add("--duration", type=float, default=10.0, help="seconds per load phase")
    add("--concurrency", type=int, default=64, help="in-flight POSTs (ingest_rps)")
    add("--ingest-rate", type=float, default=1000.0, help="req/s for ingest latency")
    add("--e2e-rate", type=float, default=500.0, help="req/s for e2e latency")
    add("--steady-rate", type=float, default=300.0, help="req/s for CPU per request")
    add("--steady-duration", type=float, default=20.0, help="seconds of the steady load")
    add(
        "--sustained-rates",
        type=_rates,
        default=Options.sustained_rates,
        help="comma-separated req/s tried in turn for the sustained rate",
    )
    add("--trending-rate", type=float, default=500.0, help="viewings/s for the trending lag")
    add("--users", type=int, default=200, help="people signed up per load run")
    add("--naive-n", type=int, default=0, help="baseline backlog (default: --n)")
    add("--viewing-n", type=int, default=0, help="heartbeats backlog (default: --n)")
    add(
        "--api-key",
        default=os.environ.get("API_KEY", ""),
        help="X-API-Key to send (default: $API_KEY, else a random bench key)",
    )
    add("--output", type=Path, default=Options.output)
    add("--keep", action="store_true", help="keep topics, rows and documents")
    add(
        "--topology",
        choices=sorted(ROLES_BY_TOPOLOGY),
        default=os.environ.get("TOPOLOGY", "split"),
        help="split: a process per role (api, processing, logging); single: one process",
    )
    add("--only", type=_phases, default=PHASES, help=f"comma-separated phases of {PHASES}")
    return parser


def parse_options(argv: list[str]) -> Options:
    """Options from the command line (``N`` and ``API_KEY`` from the environment)."""
    args = _parser().parse_args(argv)
    return Options(
        n=args.n,
        runs=args.runs,
        duration_s=args.duration,
        concurrency=args.concurrency,
        ingest_rate=args.ingest_rate,
        e2e_rate=args.e2e_rate,
        steady_rate=args.steady_rate,
        steady_duration_s=args.steady_duration,
        sustained_rates=args.sustained_rates,
        trending_rate=args.trending_rate,
        users=args.users,
        naive_n=args.naive_n,
        viewing_n=args.viewing_n,
        api_key=args.api_key or "bench_" + secrets.token_urlsafe(24),
        output=args.output,
        keep=args.keep,
        topology=args.topology,
        only=args.only,
    )


async def bench(options: Options) -> results.Report:
    """Every run, then the medians written to ``options.output``."""
    config = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()}
    config.pop("api_key")
    config["load_average_1m_before"] = os.getloadavg()[0]
    runs = []
    for number in range(1, options.runs + 1):
        say(f"run {number}/{options.runs}")
        figures, run = await one_run(options, number)
        runs.append(results.RunResult(figures, run.budget))
        say(f"run {number}: " + ", ".join(f"{k}={v:,.1f}" for k, v in figures.items()))
    return results.write(options.output, runs, config)


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print its tables."""
    options = parse_options(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    report = asyncio.run(bench(options))
    print(results.table(report.figures, options.runs))
    print()
    print(results.budget_table(report.budget))
    print(f"\nwritten to {options.output} in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
