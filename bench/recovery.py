"""``python -m bench.recovery``: how long a worker takes to recover its tables as they grow.

Writes ``--statuses`` final statuses straight into the status table's changelog
topic (as the status agent's table writes would put them there, far quicker
than through the API), then times an API-role worker, the role that holds the
tables, from launch until ``/health`` says ``up`` (in its group, every table
caught up with its changelog):

* **cold**: a fresh data directory, so every changelog entry is read again
  (a new machine, a lost disk);
* **restart**: the same data directory after a clean stop (a deploy);
* **crash**: the same data directory after SIGKILL.

An empty run (no statuses) is timed first, so start-up itself can be told
apart from recovery. The run owns its topics and group (a ``recov<time>``
prefix) and deletes them, and its data directories, at the end. Figures go to
stdout as JSON; ``docs/operations.md`` says what bounds them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from bench.context import WORK_DIR, say
from harness import broker
from harness.services import kafka_bootstrap
from harness.workers import PrefixedWorker

#: Statuses in flight before the producer waits for the broker's acknowledgements.
WINDOW = 50_000
STATUS_TABLE = "correlation_status"


def status_value(number: int) -> tuple[bytes, bytes]:
    """The changelog record of the ``number``-th status: a final outcome of ~300 bytes."""
    correlation_id = f"{number:032x}"
    cid = "-".join(
        (
            correlation_id[:8],
            correlation_id[8:12],
            "7" + correlation_id[13:16],
            "8" + correlation_id[17:20],
            correlation_id[20:],
        )
    )
    record = {
        "correlation_id": cid,
        "status": "success",
        "message": "Pagamento registrado",
        "original_event_type": "pagamento_realizado",
        "user_id": number % 1_000_000 + 1,
        "requested_at": "2026-12-06T03:00:00.000000Z",
        "processed_at": "2026-12-06T03:00:00.050000Z",
        "requested_by": "bench",
        "replays": 0,
    }
    return cid.encode(), orjson.dumps(record)


async def changelog_topic(prefix: str) -> tuple[str, int]:
    """The status table's changelog topic of the group ``prefix`` and its partition count."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        names = [
            name
            for name in await admin.list_topics()
            if name.startswith(prefix) and name.endswith(f"{STATUS_TABLE}-changelog")
        ]
        if len(names) != 1:
            raise RuntimeError(f"expected one {STATUS_TABLE} changelog under {prefix}: {names}")
        (described,) = await admin.describe_topics(names)
        return names[0], len(described["partitions"])
    finally:
        await admin.close()


async def fill(
    topic: str, partitions: int, count: int, record: Callable[[int], tuple[bytes, bytes]]
) -> float:
    """Write ``count`` records round-robin over the partitions; seconds it took.

    Which partition holds a key does not change the time it takes to read it
    back, so records are spread evenly instead of hashed.
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap(),
        acks="all",
        linger_ms=50,
        max_batch_size=1024**2,
        max_request_size=4 * 1024**2,
    )
    await producer.start()
    began = time.monotonic()
    try:
        for first in range(0, count, WINDOW):
            sent = []
            for number in range(first, min(first + WINDOW, count)):
                key, value = record(number)
                sent.append(await producer.send(topic, value, key, partition=number % partitions))
            await asyncio.gather(*sent)
            if first and first % 1_000_000 == 0:
                say(f"recovery: {first:,} statuses written")
    finally:
        await producer.stop()
    return time.monotonic() - began


def timed_start(worker: PrefixedWorker, timeout_s: float) -> float:
    """Seconds from launching ``worker`` until it is ``up``."""
    began = time.monotonic()
    worker.launch()
    worker.wait_ready(timeout_s)
    return time.monotonic() - began


def measure(statuses: int, timeout_s: float) -> dict[str, float | int]:
    """Fill the changelog with ``statuses``, then time cold, restart and crash recoveries."""
    tag = f"recov{int(time.time())}"
    home = WORK_DIR / tag
    figures: dict[str, float | int] = {"statuses": statuses}

    def worker(data: str) -> PrefixedWorker:
        made = PrefixedWorker(home / data, f"{tag}-", APP_ID=tag, WORKER_ROLE="api")
        made.log_path = WORK_DIR / f"{tag}-{data}.log"
        return made

    try:
        first = worker("empty")
        figures["empty_start_s"] = timed_start(first, timeout_s)  # also creates the topics
        first.stop()
        topic, partitions = broker.run(changelog_topic(tag))
        figures["write_s"] = broker.run(fill(topic, partitions, statuses, status_value))
        cold = worker("cold")
        figures["cold_s"] = timed_start(cold, timeout_s)
        cold.stop()
        figures["restart_s"] = timed_start(cold, timeout_s)
        cold.stop(signal.SIGKILL)
        figures["crash_s"] = timed_start(cold, timeout_s)
        cold.stop()
        figures["data_dir_mib"] = round(du_mib(home / "cold"), 1)
    finally:
        broker.run(broker.delete_topics([tag]))
        shutil.rmtree(home, ignore_errors=True)
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}


def du_mib(path: Path) -> float:
    """Bytes under ``path``, in MiB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024**2


def main() -> None:
    """Parse the options, measure, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statuses", type=int, default=1_000_000, help="statuses in the changelog")
    parser.add_argument("--timeout", type=float, default=1800.0, help="longest wait for a start, s")
    options = parser.parse_args()
    print(json.dumps(measure(options.statuses, options.timeout), indent=2))


if __name__ == "__main__":
    main()
