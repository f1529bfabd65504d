"""``python -m chaos.soak`` (``make soak``): a long, steady mixed load, sampled every 10 s.

One worker on topics of its own (the chaos scenarios' :class:`~chaos.stage.Stage`)
takes ``--rate`` requests per second for ``--duration`` seconds: sign-ups,
subscriptions, payments and preferences mixed the same way all along
(:class:`~demo.loadgen.traffic.SteadyTraffic`), plus status reads of accepted
requests. Every :data:`SAMPLE_EVERY_S` it samples, from ``/proc``, the resident
memory of the worker, each Kafka node, PostgreSQL (its processes summed) and
Elasticsearch; the consumer group's lag; the p99 latency of the POSTs answered
in the last interval and of their outcomes (accepted -> outcome on
``response_events``); and what grows on disk (the worker's data directory,
RocksDB included, and the PostgreSQL database).

It draws the samples (``--chart``, default ``docs/soak.png``), writes them as
JSON under ``var/soak/``, audits every 202 like a chaos scenario, and checks:

* **no upward trend in the worker's memory**: the least-squares slope of its RSS
  over the second half of the run is under :data:`RSS_SLOPE_LIMIT_MB_PER_MIN`;
* **lag bounded**: after the first minute, the lag never exceeds
  :data:`LAG_LIMIT_S` seconds of traffic;
* **0 lost, 0 doubled**, every status final.

Exit status 1 when a check fails. The services must be up (``make up``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import postgres, progress
from bench.measure import percentile, rss_mb, slope, tree_rss_mb
from chaos.faults import ChaosWorker, stack_tool
from chaos.run import table
from chaos.stage import (
    ADMIN_KEY,
    SIGNUP_SHARE,
    WORK_DIR,
    Options,
    Row,
    Stage,
    describe,
)
from demo.loadgen.traffic import VIEWING_MIX, SteadyTraffic
from harness.workers import REPO_ROOT
from stack.config import load_settings

SAMPLE_EVERY_S = 10.0
DEFAULT_DURATION_S = 600.0
DEFAULT_RATE = 50.0
#: Status reads per POST, of requests accepted earlier.
READS_PER_POST = 0.5
#: The worker's RSS may grow at most this fast over the run's second half: a leak of
#: 1 MiB per minute would be 1.4 GiB a day. What may legitimately still be filling
#: then is bounded: RocksDB's one block cache, memtables included
#: (ROCKSDB_BLOCK_CACHE_MB; docs/operations.md); docs/chaos.md has what a run measured.
RSS_SLOPE_LIMIT_MB_PER_MIN = 1.0
#: The group may trail by at most this many seconds of traffic (Faust commits every
#: 2.8 s, and a batch is in flight meanwhile: a few seconds' worth is normal).
LAG_LIMIT_S = 10.0
#: Samples of the first minute are not judged for lag (topics and caches warming up).
WARM_UP_S = 60.0
DEFAULT_CHART = REPO_ROOT / "docs" / "soak.png"


@dataclass
class Sample:
    """What one look at the system found, ``t`` seconds into the run."""

    t: float
    rss_mb: dict[str, float]
    lag: int
    post_p99_ms: float | None
    outcome_p99_ms: float | None
    disk_mb: dict[str, float]


def service_pids() -> dict[str, int]:
    """The pid of each service's server process, named as in the chart."""
    nodes = load_settings().kafka_brokers
    kafka_names = ["kafka"] if nodes == 1 else [f"kafka-{i}" for i in range(1, nodes + 1)]
    names = [*kafka_names, "postgresql", "elasticsearch"]
    return {name: int(stack_tool("pid", name).strip()) for name in names}


def memory(worker: ChaosWorker, services: dict[str, int]) -> dict[str, float]:
    """RSS in MiB of the worker and each service (PostgreSQL: its processes summed)."""
    found = {"worker": rss_mb(worker.pid)}
    for name, pid in services.items():
        found[name] = tree_rss_mb(pid) if name == "postgresql" else rss_mb(pid)
    return found


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
    """GET the status of random accepted requests at ``rate`` per second, until cancelled."""
    headers = {"X-API-Key": ADMIN_KEY}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        while True:
            await asyncio.sleep(1 / rate)
            answers = stage.client.answers if stage.client else []
            if answers and (answer := random.choice(answers)).status == 202 and answer.body:
                await http.get(f"/status/{answer.body['correlation_id']}")


@dataclass(frozen=True)
class Verdicts:
    """The soak's own checks, with the figures behind them."""

    rss_slope_mb_per_min: float
    lag_max: int
    lag_limit: int

    def checks(self) -> dict[str, bool]:
        """Each check by name."""
        return {
            f"worker RSS slope over the 2nd half < {RSS_SLOPE_LIMIT_MB_PER_MIN:g} MiB/min": (
                self.rss_slope_mb_per_min < RSS_SLOPE_LIMIT_MB_PER_MIN
            ),
            f"lag after {WARM_UP_S:g}s <= {self.lag_limit} ({LAG_LIMIT_S:g}s of traffic)": (
                self.lag_max <= self.lag_limit
            ),
        }


def judge(samples: list[Sample], rate: float) -> Verdicts:
    """The RSS trend over the second half and the largest lag after the warm-up."""
    half = samples[len(samples) // 2 :]
    per_minute = slope([(s.t / 60, s.rss_mb["worker"]) for s in half])
    lags = [s.lag for s in samples if s.t >= WARM_UP_S]
    return Verdicts(round(per_minute, 3), max(lags, default=0), int(rate * LAG_LIMIT_S))


async def soak(duration_s: float, rate: float) -> tuple[Row, list[Sample]]:
    """Run the load, sample it, audit it."""
    options = Options(
        n=int(duration_s * rate), audit_timeout_s=300.0, tag=f"soak{int(time.time())}"
    )
    stage = Stage(options, 0)
    async with stage:
        worker = await stage.start(stage.worker("a"))
        sampler = Sampler(stage, worker)
        users = int(options.n * SIGNUP_SHARE) + 1
        traffic = SteadyTraffic(users, SIGNUP_SHARE, mix=VIEWING_MIX)
        background = [
            asyncio.create_task(sampler.run()),
            asyncio.create_task(read_statuses(stage, worker.url, rate * READS_PER_POST)),
        ]

        async def no_fault() -> None:
            return None

        try:
            await stage.load([worker.url], duration_s, no_fault, traffic=traffic)
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
        for task in background:  # a sampler or reader that died must not pass unseen
            if not task.cancelled() and task.exception() is not None:
                raise RuntimeError("soak background task failed") from task.exception()
        verdict = await stage.audit(worker)
        samples = sampler.samples
        row = _row(verdict, samples, rate, duration_s)
        if row.passed:
            await stage.clean()
    return row, samples


def _row(verdict: Any, samples: list[Sample], rate: float, duration_s: float) -> Row:
    verdicts = judge(samples, rate)
    last = samples[-1] if samples else None
    notes = [
        f"{duration_s:g}s at {rate:g} req/s, {len(samples)} samples",
        f"worker RSS slope {verdicts.rss_slope_mb_per_min:+.2f} MiB/min over the 2nd half",
        f"lag max {verdicts.lag_max} after the warm-up",
    ]
    if last is not None:
        notes.append("RSS at the end: " + ", ".join(f"{k} {v:.0f}" for k, v in last.rss_mb.items()))
    row = Row("soak", verdict, None, notes)
    row.checks.update(verdicts.checks())
    return row


def draw(samples: list[Sample], path: Path, title: str) -> None:
    """Memory, lag, latency and disk over time, one panel each, as a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # a dev dependency: requirements-dev.txt
        raise SystemExit("the chart needs matplotlib: make venv (requirements-dev.txt)") from exc
    minutes = [s.t / 60 for s in samples]
    fig, (mem, lag, latency, disk) = plt.subplots(4, 1, figsize=(9, 11), sharex=True)
    for name in samples[0].rss_mb:
        mem.plot(minutes, [s.rss_mb[name] for s in samples], label=name)
    mem.set_ylabel("RSS (MiB)")
    lag.plot(minutes, [s.lag for s in samples], color="tab:red")
    lag.set_ylabel("consumer lag (records)")
    latency.plot(minutes, [s.post_p99_ms for s in samples], label="POST (202)")
    latency.plot(minutes, [s.outcome_p99_ms for s in samples], label="accepted -> outcome")
    latency.set_ylabel("p99 over 10 s (ms)")
    for name in samples[0].disk_mb:
        disk.plot(minutes, [s.disk_mb[name] for s in samples], label=name)
    disk.set_ylabel("on disk (MiB)")
    disk.set_xlabel("minutes")
    for axes in (mem, latency, disk):
        axes.legend(fontsize="small", loc="upper left")
    for axes in (mem, lag, latency, disk):
        axes.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Soak, print the table, write the samples and the chart; exit 1 when a check fails."""
    parser = argparse.ArgumentParser(
        prog="python -m chaos.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S, help="seconds")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="POSTs per second")
    parser.add_argument("--chart", type=Path, default=DEFAULT_CHART, help="PNG to write")
    args = parser.parse_args(argv)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    row, samples = asyncio.run(soak(args.duration, args.rate))
    print(table([row]))
    out = REPO_ROOT / "var" / "soak" / f"soak-{int(time.time())}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"row": describe(row), "samples": [asdict(s) for s in samples]}))
    if samples:
        title = f"make soak: {args.duration / 60:.0f} min at {args.rate:g} req/s, one worker"
        draw(samples, args.chart, title)
        print(f"samples in {out}, chart in {args.chart}")
    return 0 if row.passed else 1


if __name__ == "__main__":
    sys.exit(main())
