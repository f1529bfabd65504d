"""Faust drops records fetched between two flow-control resumes; the platform's app does not.

A worker with a table resumes Faust's flow control more than once per
rebalance (recovery start, standby start, recovery end), and each resume
empties every stream queue and the tables' changelog queue, although the
fetcher delivered those records after the rebalance began and the
consumer's position is past them. The probe worker
(:mod:`tests.support.faust_probe`) holds its event loop for a moment after
recovery's seek, as a loaded worker's loop is held, and handles its records
slowly, so records are waiting in its agent's queue when recovery resumes
the flow again. Plain ``faust.App`` never hands those to the agent; the
platform's :class:`app.guard.faust_fixes.PlatformApp` does. (The same drop in the
changelog queue is what left a standby copy one status short in chaos
scenario 5.) When the plain-Faust case stops losing records, Faust has fixed
it upstream and the fix can go (docs/faust-upstream.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from harness.broker import create_topics, produce_all, run
from harness.services import kafka_bootstrap
from harness.workers import REPO_ROOT, RUN_PREFIX, free_port

pytestmark = pytest.mark.integration

PARTITIONS = 2
RECORDS = 1500
#: The agent handles about 1/HANDLE_MS records a millisecond: far fewer than a fetch brings.
HANDLE_MS = 2
SEEK_DELAY_S = 3.0
#: Long enough for the agent to work through every record it was handed.
SETTLE_S = 6.0
#: Longest a probe worker may take to hand its agent a first record.
START_S = 60.0
#: Records the first run handles before it stops.
FIRST_RUN = 200


def offsets_seen(fixed: bool, tmp_path: Path, name: str) -> set[tuple[int, int]]:
    """The offsets a probe worker's agent was handed over two runs of a topic of its own.

    The first run handles the first records and writes its table, then
    stops; the second recovers the table from its changelog, so its fetcher
    is running when recovery completes and resumes the flow once more, with
    the rest of the records to fetch.
    """
    source = f"{RUN_PREFIX}{name}-source"
    run(create_topics({source: PARTITIONS}))
    records = [(b"k%05d" % i, b"v") for i in range(RECORDS)]
    run(produce_all(source, records[:FIRST_RUN]))
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap(),
        "PROBE_APP_ID": f"{RUN_PREFIX}{name}",
        "PROBE_SOURCE": source,
        "PROBE_PARTITIONS": str(PARTITIONS),
        "PROBE_DIR": str(tmp_path / name),
        "PROBE_HANDLE_MS": str(HANDLE_MS),
        "PROBE_SEEK_DELAY_S": str(SEEK_DELAY_S),
        "PROBE_FIXED": "1" if fixed else "0",
    }
    # All of its records handled before it stops: Faust's stop skips, and commits
    # past, records still queued (another of its drops, which our agents avoid
    # by reading with consumers of their own).
    first = _run_probe(env, tmp_path / f"{name}-1.log", enough=FIRST_RUN)
    run(produce_all(source, records[FIRST_RUN:]))
    return first | _run_probe(env, tmp_path / f"{name}-2.log", enough=RECORDS)


def _run_probe(env: dict[str, str], log_path: Path, enough: int) -> set[tuple[int, int]]:
    port = free_port()
    command = [sys.executable, "-m", "faust", "-A", "tests.support.faust_probe", "worker"]
    command += ["-l", "info", "--web-port", str(port), "--web-host", "127.0.0.1"]
    with log_path.open("wb") as log:
        worker = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
        try:
            return _wait_for_offsets(f"http://127.0.0.1:{port}/seen", worker, enough)
        finally:
            worker.terminate()  # a clean stop commits what was handled
            worker.wait(timeout=30)


def _wait_for_offsets(
    url: str, worker: subprocess.Popen[bytes], enough: int
) -> set[tuple[int, int]]:
    """The offsets seen once ``enough`` were handed over, or once nothing moved for a while
    after the first ones (the worker may take a while to start)."""
    seen: set[tuple[int, int]] = set()
    started, moved_at = time.monotonic(), None
    while len(seen) < enough:
        now = time.monotonic()
        if moved_at is None and now - started > START_S:
            raise TimeoutError("the probe worker handed its agent nothing")
        if moved_at is not None and now - moved_at > SETTLE_S:
            break
        assert worker.poll() is None, "the probe worker exited"
        time.sleep(0.2)
        try:
            body = httpx.get(url, timeout=2).json()
        except httpx.HTTPError:
            continue
        handed = {(int(p), o) for p, offsets in body["seen"].items() for o in offsets}
        if len(handed) > len(seen):
            seen, moved_at = handed, time.monotonic()
    return seen


def test_plain_faust_never_hands_over_records_fetched_between_two_resumes(
    tmp_path: Path,
) -> None:
    seen = offsets_seen(fixed=False, tmp_path=tmp_path, name="faust-plain")
    assert FIRST_RUN <= len(seen) < RECORDS  # the rest was dropped for good


def test_the_platform_app_hands_every_record_to_its_agent(tmp_path: Path) -> None:
    seen = offsets_seen(fixed=True, tmp_path=tmp_path, name="faust-fixed")
    assert len(seen) == RECORDS
