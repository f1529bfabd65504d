"""A running worker writes a census of its live objects on SIGUSR2, and keeps serving.

The worker runs with ``MEMORY_SNAPSHOT_DIR`` set and tracing off
(``MEMORY_TRACE_FRAMES=0``), as an operator would take censuses under load.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import orjson
import pytest

from app.telemetry.object_census import Census
from harness.workers import Worker, own_names

pytestmark = pytest.mark.integration


def wait_for_file(path: Path, timeout: float = 60) -> bytes:
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.stat().st_size:
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.2)
    time.sleep(0.5)  # written in one call, but let it finish before reading
    return path.read_bytes()


def test_sigusr2_writes_a_census_naming_what_holds_the_largest_containers_without_tracing(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "census"
    worker = Worker(
        tmp_path / "w",
        MEMORY_SNAPSHOT_DIR=str(directory),
        MEMORY_TRACE_FRAMES="0",
        **own_names(f"census{uuid.uuid4().hex[:8]}"),
    )
    worker.start()
    try:
        os.kill(worker.pid, signal.SIGUSR2)
        census = Census.from_json(orjson.loads(wait_for_file(directory / "census-001.json")))

        assert census.objects > 10_000 and census.blocks > census.objects
        assert census.types["builtins.dict"] > 1000  # the commonest types, counted
        assert sum(census.types.values()) <= census.objects
        named = [c.holder for c in census.containers if c.holder != "?"]
        assert len(named) >= len(census.containers) // 2, census.containers
        assert not list(directory.glob("*.tracemalloc"))  # tracing was off
        worker.wait_healthy()  # still serving after the census held it
        assert worker.alive
    finally:
        worker.stop()
