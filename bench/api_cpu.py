"""``python -m bench.api_cpu``: the API process's CPU per accepted request at a steady rate.

Starts one API worker (``WORKER_ROLE=api``) per ``--checkout`` (default: this
one; two compare code A with code B in one sitting), each on topics of its
own. Each round sends open-loop load at ``--rate`` for ``--seconds`` to every
worker in turn, and the rounds alternate the order (A B, B A, ...) so that
what else the machine does falls on both alike. A worker's figure is its
process CPU time (user + system, every thread, read from ``/proc``) used
during its load, divided by the requests it accepted: CPU time, unlike
throughput or latency, hardly changes when other processes compete for the
cores.

With ``--idle-seconds`` each round first reads every worker's CPU while it
gets no request at all (in % of one core): what the role costs doing nothing,
its agents' consumers and Faust's timers, which the figure per request
includes too.

With ``--profile`` one more round samples the first checkout's worker with
py-spy (in requirements-dev.txt; root or ptrace permission needed) and prints
its CPU per request split into the parts of a request (:mod:`bench.api_budget`).
Only the API worker runs: the events are produced, not processed.

With ``--setting NAME=VALUE`` (repeatable) one more worker of the first checkout
runs with that setting in its environment: an A/B of a setting in one sitting.

With ``--floor bare``, ``--floor kafka`` (and ``--floor rdkafka``) the rounds also
measure servers that answer the same traffic with aiohttp alone, or with aiohttp
and aiokafka's (librdkafka's) producer (:mod:`bench.api_floor`): what any API on
this stack pays per request, below which no change to the API's own code can go.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.settings import get_settings
from bench import api_budget
from bench.api_floor import VARIANTS, FloorWorker
from bench.context import WORK_DIR, RunTopics, bench_key_env, say
from bench.cpu import own_cpu_s, threads_cpu_s
from bench.measure import median
from demo.loadgen.engine import ApiClient, open_loop
from demo.loadgen.traffic import Traffic
from harness import broker
from harness.workers import REPO_ROOT, PrefixedWorker

#: Unmeasured load before the first round: imports, connections, caches.
WARM_UP_S = 5.0


@dataclass
class Subject:
    """One server measured (a checkout's API worker, or a floor) and its figures.

    Its figures: µs of CPU per accepted request, per round.
    """

    #: The checkout's directory name, or ``floor-<variant>``.
    name: str
    worker: PrefixedWorker | FloorWorker
    traffic: Traffic
    key: str
    rounds_us: list[float] = field(default_factory=list)
    #: % of one core used with no request, per round (``--idle-seconds``).
    idle_pct: list[float] = field(default_factory=list)


async def measure(subject: Subject, rate: float, seconds: float) -> tuple[float, int]:
    """CPU µs per accepted request of ``subject``'s worker under ``rate`` for ``seconds``."""
    async with ApiClient(subject.worker.url, subject.key) as client:
        before = own_cpu_s(subject.worker.pid)
        load = await open_loop(client, subject.traffic, rate, seconds)
        used = own_cpu_s(subject.worker.pid) - before
    if load.errors:
        say(f"{subject.name}: answers other than 202: {load.errors}")
    return used * 1e6 / max(load.accepted, 1), load.accepted


async def idle_share(subject: Subject, seconds: float) -> float:
    """% of one core ``subject``'s worker uses over ``seconds`` with no request."""
    before = own_cpu_s(subject.worker.pid)
    await asyncio.sleep(seconds)
    return 100 * (own_cpu_s(subject.worker.pid) - before) / seconds


#: What librdkafka names its threads (the intake's producer, app/kafka/intake_producer.py).
LIBRDKAFKA = "rdk:"


def _worker(tag: str, checkout: Path, key: str, **env: str) -> PrefixedWorker:
    worker = PrefixedWorker(
        WORK_DIR / tag, f"{tag}-", APP_ID=tag, WORKER_ROLE="api", **bench_key_env(key), **env
    )
    worker.checkout = checkout
    worker.log_path = WORK_DIR / f"{tag}-api.log"
    return worker


async def _profile(
    subject: Subject, rate: float, seconds: float, out: Path
) -> tuple[float, dict[str, float]]:
    """A round under py-spy: CPU µs per request, and the CPU seconds of each kind of thread."""
    # The virtualenv's py-spy, whether or not its bin directory is on PATH.
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    spy = [py_spy, "record", "-p", str(subject.worker.pid), "-d", str(int(seconds))]
    spy += ["-r", "250", "--format", "raw", "-o", str(out), "--nonblocking"]
    sampler = asyncio.create_task(asyncio.to_thread(subprocess.run, spy, capture_output=True))
    before = threads_cpu_s(subject.worker.pid)
    cpu_us, _ = await measure(subject, rate, seconds)
    after = threads_cpu_s(subject.worker.pid)
    finished = await sampler
    if finished.returncode != 0:
        raise RuntimeError(f"py-spy failed: {finished.stderr.decode()[-500:]}")
    return cpu_us, _by_kind(subject.worker.pid, before, after)


def _by_kind(
    pid: int, before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds between two readings of the threads: the main one, librdkafka's, the rest."""
    used = {"main": 0.0, "librdkafka": 0.0, "other threads": 0.0}
    for tid, (name, cpu_s) in after.items():
        spent = cpu_s - before.get(tid, (name, 0.0))[1]
        kind = "main" if tid == pid else "librdkafka" if name.startswith(LIBRDKAFKA) else None
        used[kind or "other threads"] += spent
    return used


def _budget(collapsed: Path, threads: dict[str, float]) -> dict[str, float]:
    """The parts' shares of the process's CPU, each thread's samples weighted by its CPU."""
    return api_budget.combined(
        [
            (threads["main"], api_budget.shares(collapsed, main_thread=True)),
            (threads["other threads"], api_budget.shares(collapsed, main_thread=False)),
            (threads["librdkafka"], {"produce call": 1.0}),
        ]
    )


async def _run(args: argparse.Namespace) -> list[Subject]:
    tag = f"apicpu{int(time.time())}"
    subjects = []
    # Each checkout's worker, then one more of the first checkout per --setting.
    runs: list[tuple[Path, dict[str, str]]] = [(c.resolve(), {}) for c in args.checkout]
    for setting in args.setting:
        name, _, value = setting.partition("=")
        runs.append((args.checkout[0].resolve(), {name: value}))
    for i, (checkout, env) in enumerate(runs):
        key = "bench_" + secrets.token_urlsafe(24)
        topics = RunTopics(prefix=f"{tag}{i}-")
        await broker.create_topics(topics.layout())
        worker = _worker(f"{tag}{i}", checkout, key, **env)
        name = " ".join([checkout.name, *(f"{k}={v}" for k, v in env.items())])
        subjects.append(Subject(name, worker, Traffic(args.users), key))
    for variant in args.floor:
        topic = f"{tag}-floor-{variant}"
        await broker.create_topics({topic: get_settings().topic_partitions})
        floor = FloorWorker(WORK_DIR / f"{tag}-floor-{variant}", variant, topic)
        subjects.append(Subject(f"floor-{variant}", floor, Traffic(args.users), ""))
    try:
        for subject in subjects:
            subject.worker.launch()
        await asyncio.gather(*(asyncio.to_thread(s.worker.wait_healthy) for s in subjects))
        for subject in subjects:
            await measure(subject, args.rate, WARM_UP_S)
        for number in range(args.rounds):
            order = subjects if number % 2 == 0 else subjects[::-1]
            for subject in order:
                if args.idle_seconds > 0:
                    subject.idle_pct.append(await idle_share(subject, args.idle_seconds))
                    say(f"round {number + 1} {subject.name}: idle {subject.idle_pct[-1]:.2f}%")
                cpu_us, accepted = await measure(subject, args.rate, args.seconds)
                subject.rounds_us.append(cpu_us)
                say(f"round {number + 1} {subject.name}: {cpu_us:,.0f} µs/request ({accepted})")
        if args.profile:
            out = WORK_DIR / f"{tag}-profile.txt"
            cpu_us, threads = await _profile(subjects[0], args.rate, args.seconds, out)
            say(f"profiled {subjects[0].name}: {cpu_us:,.0f} µs/request; stacks in {out}")
            say("CPU s by thread: " + ", ".join(f"{k} {v:.2f}" for k, v in threads.items()))
            budget = _budget(out, threads)
            print(api_budget.budget_table(median(subjects[0].rounds_us), budget))
    finally:
        await asyncio.gather(*(asyncio.to_thread(s.worker.stop) for s in subjects))
        await broker.delete_topics([tag])
        for subject in subjects:
            shutil.rmtree(subject.worker.data_dir, ignore_errors=True)
    return subjects


def main() -> int:
    """Measure, compare (two checkouts) and optionally profile the API worker."""
    parser = argparse.ArgumentParser(prog="python -m bench.api_cpu", description=__doc__)
    parser.add_argument("--rate", type=float, default=300.0, help="req/s sent to each worker")
    parser.add_argument("--seconds", type=float, default=20.0, help="load per worker per round")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per worker")
    parser.add_argument(
        "--idle-seconds", type=float, default=0.0, help="each round, CPU with no load first"
    )
    parser.add_argument("--users", type=int, default=200, help="people signed up per worker")
    parser.add_argument(
        "--checkout",
        type=Path,
        action="append",
        help="a checkout whose code a worker runs (repeat for A/B; default: this one)",
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="one more worker of the first checkout with this setting (repeat: one each)",
    )
    parser.add_argument(
        "--floor",
        choices=VARIANTS,
        action="append",
        default=[],
        help="also measure a server doing only aiohttp (bare), or aiohttp and a producer: "
        "aiokafka (kafka) or librdkafka (rdkafka)",
    )
    parser.add_argument("--profile", action="store_true", help="one more round under py-spy")
    args = parser.parse_args()
    args.checkout = args.checkout or [REPO_ROOT]
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    subjects = asyncio.run(_run(args))
    print(f"API CPU per accepted request at {args.rate:g} req/s (median of {args.rounds} rounds):")
    for subject in subjects:
        rounds = ", ".join(f"{v:,.0f}" for v in subject.rounds_us)
        print(f"  {subject.name}: {median(subject.rounds_us):,.0f} µs  ({rounds})")
    if len(args.checkout) + len(args.setting) == 2:
        a, b = (median(s.rounds_us) for s in subjects[:2])
        print(f"  B against A: {b - a:+,.0f} µs ({100 * (b - a) / a:+.1f}%)")
    if args.idle_seconds > 0:
        print(f"Idle CPU, % of one core over {args.idle_seconds:g} s (median of {args.rounds}):")
        for subject in subjects:
            rounds = ", ".join(f"{v:.2f}" for v in subject.idle_pct)
            print(f"  {subject.name}: {median(subject.idle_pct):.2f}%  ({rounds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
