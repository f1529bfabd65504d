"""A diagnostic: a worker's Python heap written down on demand, each SIGUSR2.

Off unless ``MEMORY_SNAPSHOT_DIR`` is set. Then every SIGUSR2 writes to that
directory:

- ``census-<n>.json``: the live objects by type and the largest containers with
  what holds them (:mod:`app.telemetry.object_census`); cheap until taken, so it
  can be taken at full load. ``python -m bench.census_diff`` compares two.
- ``snapshot-<n>.tracemalloc``, when ``MEMORY_TRACE_FRAMES`` is above 0 (12 by
  default): the worker then traces its allocations from the start, with that
  many frames each, which costs CPU and memory. A load driver takes one before
  and one after a known number of requests and compares them
  (``python -m bench.memory_growth``): what grew, where it was allocated.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import tracemalloc
from pathlib import Path

import orjson
from mode import Service

from app.telemetry.object_census import take_census

log = logging.getLogger(__name__)


class MemorySnapshots(Service):
    """Writes a census (and, when tracing, a tracemalloc snapshot) on each SIGUSR2."""

    def __init__(self, directory: Path, trace_frames: int) -> None:
        super().__init__()
        self.directory = directory
        self.trace_frames = trace_frames
        self.taken = 0
        if trace_frames:
            tracemalloc.start(trace_frames)  # as early as possible: nothing before is seen

    async def on_start(self) -> None:
        """Listen for SIGUSR2."""
        self.directory.mkdir(parents=True, exist_ok=True)
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR2, self.write)

    async def on_stop(self) -> None:
        """Stop listening and tracing."""
        asyncio.get_running_loop().remove_signal_handler(signal.SIGUSR2)
        if self.trace_frames:
            tracemalloc.stop()

    def write(self) -> None:
        """Write this moment's census and, when tracing, its snapshot."""
        self.taken += 1
        self.write_census()
        if self.trace_frames:
            self.write_snapshot()

    def write_census(self) -> Path:
        """Write a census of the live objects; its path."""
        path = self.directory / f"census-{self.taken:03d}.json"
        census = take_census()
        path.write_bytes(orjson.dumps(census.as_json(), option=orjson.OPT_INDENT_2))
        log.info("object census %s written (%d objects tracked)", path, census.objects)
        return path

    def write_snapshot(self) -> Path:
        """Write the current snapshot (tracemalloc's own allocations left out); its path."""
        path = self.directory / f"snapshot-{self.taken:03d}.tracemalloc"
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        snapshot.dump(str(path))
        log.info("memory snapshot %s written (%d traces)", path, len(snapshot.traces))
        return path
