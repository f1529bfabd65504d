"""``python -m bench.profile``: where a worker spends its time draining a backlog.

Pre-loads ``--n`` events on fresh topics, starts one worker (``--role``,
default ``processing``: the stage that drains the backlog), and samples it
with py-spy (in requirements-dev.txt; root, or ptrace permission, needed) for
``--seconds``. Writes the collapsed stacks to ``var/bench/profile-<tag>.txt``
(open it in speedscope or flamegraph.pl) and prints the functions with the
most samples, inclusive (on the stack) and self (on top of it).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench import postgres
from bench.backlog import build_backlog, users_needed
from bench.context import WORK_DIR, RunTopics, bench_key_env
from harness import broker
from harness.workers import PrefixedWorker


def top_functions(collapsed: Path, limit: int) -> tuple[int, list[tuple[str, int, int]]]:
    """Total samples and the ``limit`` hottest frames: (frame, inclusive, self)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    hottest = [(f, n, own[f]) for f, n in inclusive.most_common(limit)]
    return total, hottest


async def _profile(n: int, seconds: float, role: str, out: Path) -> None:
    tag = f"profile{int(time.time())}"
    topics = RunTopics(prefix=f"{tag}-")
    await broker.create_topics(topics.layout())
    backlog = build_backlog(n, postgres.reserve_user_ids(users_needed(n)), tag)
    await broker.produce_all(topics.name("user_events"), backlog.records)
    worker = PrefixedWorker(
        WORK_DIR / tag, topics.prefix, APP_ID=tag, WORKER_ROLE=role, **bench_key_env("profile")
    )
    try:
        await asyncio.to_thread(worker.start)
        spy = ["py-spy", "record", "-p", str(worker.pid), "-d", str(int(seconds))]
        spy += ["-r", "200", "--format", "raw", "-o", str(out), "--nonblocking"]
        await asyncio.to_thread(subprocess.run, spy, check=True, capture_output=True)
    finally:
        await asyncio.to_thread(worker.stop)
        await broker.delete_topics([topics.prefix])
        postgres.delete_rows(backlog.user_ids, backlog.correlation_ids)
        shutil.rmtree(WORK_DIR / tag, ignore_errors=True)


def main() -> int:
    """Profile a worker and print its hot spots."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--n", type=int, default=50_000, help="backlog size (events)")
    parser.add_argument("--seconds", type=float, default=20.0, help="sampling time")
    parser.add_argument("--top", type=int, default=40, help="frames to print")
    parser.add_argument(
        "--role",
        choices=["all", "api", "processing", "logging"],
        default="processing",
        help="the worker role to start and sample (WORKER_ROLE)",
    )
    args = parser.parse_args()
    out = WORK_DIR / f"profile-{int(time.time())}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(_profile(args.n, args.seconds, args.role, out))
    total, hottest = top_functions(out, args.top)
    print(f"{total} samples; collapsed stacks in {out}")
    print(f"{'inclusive':>9} {'self':>6}  frame")
    for frame, inclusive, own in hottest:
        print(f"{100 * inclusive / total:8.1f}% {100 * own / total:5.1f}%  {frame}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
