"""``python -m bench.memory_growth``: which Python structures of a worker grow per request.

Starts one worker (every role, topics and group of its own) with
``MEMORY_SNAPSHOT_DIR`` set (:mod:`app.telemetry.memory_snapshots`), sends
``--warmup`` requests of mixed traffic (viewings included), takes a snapshot,
then ``--phases`` times sends ``--requests`` more at ``--rate`` and takes
another. For each phase it prints the growth of the traced heap and of the
RSS per 1,000 requests, and the allocation sites (tracebacks) that grew most:
growth that repeats phase after phase is per request; growth that stops is a
cache filling up. Tracing slows the worker: the rate is for finding leaks, not
for measuring speed. Needs the services (``make up``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import tempfile
import time
import tracemalloc
from pathlib import Path

from bench.measure import rss_mb
from demo.loadgen.engine import ApiClient, open_loop
from demo.loadgen.traffic import VIEWING_MIX, Traffic
from harness.broker import delete_topics
from harness.workers import ADMIN, RUN_PREFIX, TEST_CALLERS, Worker, own_names

KIB = 1024
#: Time for the pipeline to finish what a phase sent before its snapshot.
SETTLE_S = 8.0


async def take_snapshot(worker: Worker, directory: Path, number: int) -> tracemalloc.Snapshot:
    """Have the worker write its snapshot ``number`` (SIGUSR2) and load it."""
    path = directory / f"snapshot-{number:03d}.tracemalloc"
    os.kill(worker.pid, signal.SIGUSR2)
    for _ in range(600):
        await asyncio.sleep(0.1)
        if path.exists():
            await asyncio.sleep(1.0)  # written in one go; let the dump finish
            return tracemalloc.Snapshot.load(str(path))
    raise TimeoutError(f"the worker wrote no {path.name}; see {worker.log_path}")


def report(
    before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, requests: int, top: int
) -> None:
    """The traced heap's growth per 1,000 requests and the sites growing most."""
    stats = after.compare_to(before, "traceback")
    total = sum(s.size_diff for s in stats)
    print(
        f"  traced heap: {total / KIB:+.0f} KiB, {total / KIB / requests * 1000:+.1f} KiB per 1,000 requests"
    )
    for stat in sorted(stats, key=lambda s: s.size_diff, reverse=True)[:top]:
        per_k = stat.size_diff / KIB / requests * 1000
        print(f"  {per_k:+8.2f} KiB/1k req  {stat.count_diff:+7d} blocks")
        for frame in stat.traceback.format(limit=6, most_recent_first=True):
            print(f"      {frame}")


async def measure(rate: float, warmup: int, requests: int, phases: int, top: int) -> None:
    """Run the worker under load and print each phase's growth."""
    directory = Path(tempfile.mkdtemp(prefix="memory-growth-"))
    name = f"memgrowth{int(time.time())}"
    names = own_names(name)
    worker = Worker(
        directory / "worker",
        None,
        APP_ID=names["APP_ID"],
        TOPIC_PREFIX=names["TOPIC_PREFIX"],
        MEMORY_SNAPSHOT_DIR=str(directory),
    )
    worker.start()
    try:
        worker.wait_ready()
        traffic = Traffic(users=200, mix=VIEWING_MIX)
        async with ApiClient(worker.url, TEST_CALLERS[ADMIN][0]) as client:
            await open_loop(client, traffic, rate, warmup / rate)
            await asyncio.sleep(SETTLE_S)
            snapshots = [await take_snapshot(worker, directory, 1)]
            rss = [rss_mb(worker.pid)]
            for phase in range(1, phases + 1):
                load = await open_loop(client, traffic, rate, requests / rate)
                await asyncio.sleep(SETTLE_S)
                snapshots.append(await take_snapshot(worker, directory, phase + 1))
                rss.append(rss_mb(worker.pid))
                grown = (rss[-1] - rss[-2]) * KIB
                print(
                    f"phase {phase}: {load.sent} requests ({load.accepted} accepted) at {rate:g}/s;"
                    f" RSS {rss[-1]:.1f} MiB, {grown / load.sent * 1000:+.1f} KiB per 1,000 requests"
                )
                report(snapshots[-2], snapshots[-1], load.sent, top)
    finally:
        worker.stop()
        await delete_topics([f"{RUN_PREFIX}{name}"])
        print(f"snapshots and the worker's log: {directory}")


def main() -> None:
    """Command line: rate, warm-up, requests per phase, phases, sites listed."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.memory_growth", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second (50)")
    parser.add_argument(
        "--warmup", type=int, default=1000, help="requests before the first snapshot"
    )
    parser.add_argument("--requests", type=int, default=3000, help="requests per phase (3000)")
    parser.add_argument("--phases", type=int, default=3, help="phases, a snapshot after each (3)")
    parser.add_argument("--top", type=int, default=12, help="allocation sites listed per phase")
    args = parser.parse_args()
    asyncio.run(measure(args.rate, args.warmup, args.requests, args.phases, args.top))


if __name__ == "__main__":
    main()
