"""``python -m chaos.soak`` (``make soak``): a long, steady mixed load, sampled every 10 s.

One worker on topics of its own (the chaos scenarios' :class:`~chaos.stage.Stage`)
takes ``--rate`` requests per second for ``--duration`` seconds: sign-ups,
subscriptions, payments, preferences, viewings and sessions mixed the same way
all along (:class:`~demo.loadgen.traffic.SteadyTraffic`), plus status reads of
accepted requests. Sign-ups are a fifth of the requests until ``--population``
people are signed up, then a hundredth. The worker runs with every retention rule shortened
(:mod:`chaos.soak_retention`, printed at the start) and an event log of its
own (``LOG_INDEX``), so that pruning acts during the run.

Every 10 s it samples memory (each process's, each service's by part, the
worker's RocksDB cache, Python heap and jemalloc), lag, latency, what grows on
disk and what retention prunes (:mod:`chaos.soak_sampler`).

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

from app.memory_ceiling import memory_ceiling_mb
from chaos.audit import Verdict
from chaos.rolling_audit import AuditPace, RollingAudit
from chaos.run import table
from chaos.soak_census import SoakCensus
from chaos.soak_chart import draw
from chaos.soak_checks import Bounds, Sample, judge, part_slopes
from chaos.soak_retention import (
    SoakRetention,
    check_audit_fits,
    evidence_kept_s,
    index_bound,
    row_bound,
)
from chaos.soak_sampler import Sampler
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

DEFAULT_DURATION_S = 600.0
DEFAULT_RATE = 50.0
#: Status reads per POST, of requests accepted earlier.
READS_PER_POST = 0.5
#: How fast the audit reads a slice's statuses, per POST per second. A slice holds
#: ``every_s`` seconds of requests; at 1.25 times their rate it is read within 80 % of the
#: interval, a steady load beside the traffic's. Read at once (32 at a time), each slice
#: took the worker's cores from its agents for a while: lag peaks (5,967 records) and the
#: worker's memory peak (278 MiB) of the hour of 2026-12-08 followed those bursts.
AUDIT_READS_PER_POST = 1.25
DEFAULT_CHART = REPO_ROOT / "docs" / "soak.png"
#: How long the audit of one slice (and of the remainder) may wait for it to converge.
AUDIT_TIMEOUT_S = 300.0
#: People signed up at the stage's sign-up share before it falls to :data:`SETTLED_SIGNUP_SHARE`
#: (at 200 req/s: within 12.5 minutes). While the population grew by a fifth of every request,
#: what is kept per person (the API's creators cache, bounded and counted full in the ceiling)
#: was still filling an hour in, and the memory slopes read a bounded fill as growth. Settled,
#: the services' slopes passed for the first time (docs/chaos.md).
POPULATION = 30_000
#: Sign-ups among the requests once the population is reached: they go on, at 2 a second at
#: 200 req/s.
SETTLED_SIGNUP_SHARE = 0.01
#: What every soak's names start with: its topics, event log and working files.
RUN_NAME = "soak"


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
    """What the run's settings allow: the worker's memory ceiling, rows, indices."""
    return Bounds(
        memory_ceiling_mb(retention.settings, rate),
        row_bound(retention, rate),
        index_bound(retention),
    )


async def soak(
    duration_s: float,
    rate: float,
    retention: SoakRetention,
    pace: AuditPace,
    population: int = POPULATION,
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
        traffic = steady_traffic(options.n, population)
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


def steady_traffic(requests: int, population: int) -> SteadyTraffic:
    """The soak's mix for ``requests`` in all: ``population`` people first, then a trickle."""
    settled_signups = int(requests * SETTLED_SIGNUP_SHARE)
    users = min(int(requests * SIGNUP_SHARE), population + settled_signups) + 1
    return SteadyTraffic(
        users,
        SIGNUP_SHARE,
        mix=VIEWING_MIX,
        population=population,
        settled_share=SETTLED_SIGNUP_SHARE,
    )


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
        f"lag max {verdicts.lag_max_s:.1f}s of the agents' input after the warm-up",
        f"lag max {verdicts.lag_max} records after the warm-up",
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
    parser.add_argument(
        "--population",
        type=int,
        default=POPULATION,
        help="people signed up before sign-ups fall to a trickle",
    )
    args = parser.parse_args(argv)
    retention = SoakRetention.from_environment()
    pace = AuditPace(args.audit_every, args.audit_lag, args.rate * AUDIT_READS_PER_POST)
    try:
        check_audit_fits(retention, pace.lag_s, pace.every_s)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"soak retention: {retention.describe()}")
    print(
        f"rolling audit: a slice every {pace.every_s:g}s, {pace.lag_s:g}s after its last request,"
        f" its statuses read at {pace.status_reads_per_s:g}/s"
    )
    print(f"population: {args.population} people, then sign-ups at {SETTLED_SIGNUP_SHARE:g}")
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    row, samples = asyncio.run(soak(args.duration, args.rate, retention, pace, args.population))
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
